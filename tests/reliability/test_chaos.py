"""Chaos under load: workers and pool processes SIGKILLed at random, the broker and the
database connections taken away mid-dispatch, a visibility timeout shorter than a dispatch.

Every scenario ends the same way: the periodic sweep (run by the test as beat
would) expires the dead claims and enqueues again what is left, until no
recipient is queued or claimed. Then, whatever happened:

* **duplicates** 0: no number was in two send requests that reached the gateway;
* **lost** 0: every recipient is submitted, failed or ``uncertain``;
* every recipient the gateway accepted is submitted or ``uncertain``;
* **false uncertain** 0: no recipient is ``uncertain`` whose request the app
  knew had not left. The one exception is a process SIGKILLed between its
  claim and its request: the claim's lease runs out and the sweeper cannot
  tell whether the request left, so such recipients are ``uncertain`` without
  having reached the gateway; they are counted apart (``killed_before_request``).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from django_smsgo import send_sms
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services.sweeper import sweep
from django_smsgo.simulator.instance import Simulator
from django_smsgo.tasks import dispatch_message
from tests.reliability.conftest import (
    callback_tokens,
    count_secrets,
    false_uncertain,
    wait_until,
    worker_log_texts,
)
from tests.reliability.test_gateway_faults import sends_per_number
from tests.reliability.test_workers import accepted_numbers, phones, worker_settings

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

SEED = int(os.environ.get("RELIABILITY_SEED", "0")) or random.randrange(1, 10**6)


def send_many(messages: int, per_message: int, first: int, label: str) -> list[Message]:
    return [
        send_sms(
            phones(per_message, first=first + n * 10_000),
            f"reliability: {label} {n}",
            encoding="ASCII",
        )
        for n in range(messages)
    ]


def unfinished() -> bool:
    queued = Recipient.objects.filter(status=Recipient.Status.QUEUED).exists()
    return queued or Batch.objects.filter(state=Batch.State.CLAIMED).exists()


def sweep_until_done(timeout: float) -> bool:
    """Sweep as beat would until nothing is queued or claimed; False on timeout."""

    def done() -> bool:
        try:
            sweep()
        except Exception:  # a broker or database still coming back: sweep again
            return False
        return not unfinished()

    return wait_until(done, timeout=timeout, interval=0.5)


def outcome(
    gateway: Simulator, worker_logs: Path, settings: Any, messages: list[Message]
) -> dict[str, Any]:
    """The figures every chaos scenario asserts on."""
    recipients = Recipient.objects.filter(message__in=messages)
    total = recipients.count()
    by_status = dict.fromkeys(Recipient.Status.values, 0)
    for status in recipients.values_list("status", flat=True):
        by_status[status] += 1
    per_number = sends_per_number(gateway)
    accepted = accepted_numbers(gateway)
    uncertain = list(
        recipients.filter(status=Recipient.Status.UNCERTAIN).values_list("phone", flat=True)
    )
    known = set(
        recipients.filter(
            status__in=(Recipient.Status.SUBMITTED, Recipient.Status.UNCERTAIN)
        ).values_list("phone", flat=True)
    )
    batches = list(Batch.objects.filter(message__in=messages).values_list("pk", flat=True))
    return {
        "recipients": total,
        "submitted": by_status[Recipient.Status.SUBMITTED],
        "uncertain": len(uncertain),
        "failed": by_status[Recipient.Status.FAILED],
        "send_requests": sum(1 for r in gateway.requests if r["endpoint"] == "sendsms.aspx"),
        "duplicates": gateway.duplicates()["extra_sends"]
        + sum(1 for n in per_number if per_number[n] > 1),
        "lost": total
        - by_status[Recipient.Status.SUBMITTED]
        - by_status[Recipient.Status.UNCERTAIN]
        - by_status[Recipient.Status.FAILED],
        "accepted_not_recorded": sum(1 for n in accepted if n not in known),
        "killed_before_request": false_uncertain(uncertain, per_number),
        "secrets": count_secrets(
            worker_log_texts(worker_logs),
            [str(settings.SMSGO["PASSWORD"]), *callback_tokens(batches)],
        ),
    }


def assert_held(figures: dict[str, Any], *, kills: bool = False) -> None:
    assert figures["duplicates"] == 0, figures
    assert figures["lost"] == 0, figures
    assert figures["accepted_not_recorded"] == 0, figures
    assert figures["secrets"] == 0, figures
    if not kills:
        assert figures["killed_before_request"] == 0, figures


def test_random_sigkills_of_workers_and_pool_processes_while_four_race(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    worker_logs: Path,
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    gateway.fault("latency", seconds=0.5, count=None)  # requests in flight to be hit
    smsgo = worker_settings(
        gateway,
        settings,
        CLAIM_LEASE=3,
        ENQUEUE_SWEEP_AGE=3,
        CALLBACK_BASE_URL="https://shop.example",
    )
    messages = send_many(200, 100, first=50_000_000, label="chaos")  # 20,000 recipients
    for message in messages:
        dispatch_message.delay(message.pk)  # a second task per message: they race
    # Started once every task waits in the queue, so that the kills land in the race.
    workers = [start_worker(smsgo, name=f"chaos{n}", concurrency=2, wait=False) for n in range(4)]
    assert wait_until(lambda: Batch.objects.exists(), timeout=120), "dispatch never started"
    racing = time.monotonic()
    chance = random.Random(SEED)
    kills = {"worker": 0, "pool_process": 0}
    started = 0
    while kills["worker"] + kills["pool_process"] < 20 and unfinished():
        time.sleep(chance.uniform(0.2, 0.7))
        index = chance.randrange(len(workers))
        children = workers[index].pool_children()
        if children and chance.random() < 0.65:
            os.kill(chance.choice(children), signal.SIGKILL)  # the main process forks another
            kills["pool_process"] += 1
        else:
            workers[index].kill()
            kills["worker"] += 1
            started += 1
            workers[index] = start_worker(
                smsgo, name=f"chaos-new{started}", concurrency=2, wait=False
            )
        with contextlib.suppress(Exception):  # the next sweep will do it
            sweep()
    assert sweep_until_done(timeout=240), "recipients left queued or claimed"
    raced_in = time.monotonic() - racing
    for worker in workers:
        worker.kill()  # idle now: nothing to finish
    result = outcome(gateway, worker_logs, settings, messages)
    figures(
        "4 workers racing, random SIGKILLs of workers and pool processes",
        raced_in_s=round(raced_in, 1),
        seed=SEED,
        workers_killed=kills["worker"],
        pool_processes_killed=kills["pool_process"],
        **result,
    )
    assert_held(result, kills=True)
    assert result["recipients"] == 20_000


@pytest.fixture
def private_broker(monkeypatch: pytest.MonkeyPatch, celery_app: Any) -> Iterator[Any]:
    """A Redis without persistence on its own port, that the test may kill and start again.

    This process and the workers it starts use it (``CELERY_BROKER_URL``).
    """
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server program (Debian package redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker = PrivateRedis(port)
    broker.start()
    monkeypatch.setenv("CELERY_BROKER_URL", broker.url)
    reset_connections(celery_app)
    try:
        yield broker
    finally:
        broker.kill()
        monkeypatch.undo()
        reset_connections(celery_app)


def reset_connections(app: Any) -> None:
    """Make the Celery app connect anew (to the broker ``CELERY_BROKER_URL`` now names)."""
    app._after_fork()


class PrivateRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--protected-mode", "no"),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

        def up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                return False
            return True

        assert wait_until(up, timeout=20), "redis-server did not start"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def test_broker_killed_during_dispatch_and_started_empty(
    smsgo_simulator: Simulator,
    settings: Any,
    private_broker: PrivateRedis,
    start_worker: Callable[..., Any],
    worker_logs: Path,
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    gateway.fault("latency", seconds=0.3, count=None)
    smsgo = worker_settings(gateway, settings, CLAIM_LEASE=3, ENQUEUE_SWEEP_AGE=2)
    messages = send_many(50, 100, first=60_000_000, label="broker")
    # Started once the tasks wait, so the kill lands mid-dispatch.
    workers = [start_worker(smsgo, name=f"broker{n}", concurrency=2, wait=False) for n in range(2)]
    for worker in workers:
        worker.wait_ready()
    submitted = Recipient.objects.filter(status=Recipient.Status.SUBMITTED)
    assert wait_until(lambda: submitted.count() >= 300, timeout=120), "dispatch never started"
    private_broker.kill()  # every queued and unacknowledged task is gone with it
    at_kill = submitted.count()
    # Sent while the broker is down: the enqueue fails, the message waits for the sweeper.
    messages += send_many(10, 100, first=61_000_000, label="broker down")
    time.sleep(2)
    private_broker.start()  # empty: no persistence
    assert sweep_until_done(timeout=240), "recipients left queued or claimed"
    result = outcome(gateway, worker_logs, settings, messages)
    figures(
        "broker (Redis, no persistence) killed during dispatch, started empty",
        submitted_at_kill=at_kill,
        false_uncertain=result["killed_before_request"],
        **result,
    )
    assert at_kill < 5_000, "the broker was killed after the dispatch"
    assert_held(result)
    assert result["recipients"] == 6_000
    assert result["submitted"] + result["uncertain"] == 6_000


def test_database_sessions_of_the_workers_terminated_mid_dispatch(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    worker_logs: Path,
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    gateway.fault("latency", seconds=0.3, count=None)  # sessions wait, idle, in the request
    smsgo = worker_settings(gateway, settings, CLAIM_LEASE=3, ENQUEUE_SWEEP_AGE=2)
    messages = send_many(50, 100, first=62_000_000, label="pg_terminate_backend")
    # Started once the tasks wait, so the sessions die mid-dispatch.
    for n in range(2):
        start_worker(smsgo, name=f"pgkill{n}", concurrency=2, wait=False)
    claimed = Batch.objects.filter(state=Batch.State.CLAIMED)
    assert wait_until(claimed.exists, timeout=120, interval=0.01), "dispatch never started"
    terminated = 0
    rounds = 0
    while rounds < 30 and unfinished():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            terminated += cursor.fetchone()[0]
        rounds += 1
        time.sleep(0.2)
    assert sweep_until_done(timeout=240), "recipients left queued or claimed"
    result = outcome(gateway, worker_logs, settings, messages)
    figures(
        "workers' database sessions terminated mid-dispatch (pg_terminate_backend)",
        sessions_terminated=terminated,
        false_uncertain=result["killed_before_request"],
        **result,
    )
    assert terminated > 0
    assert result["recipients"] == 5_000
    # Before the fix, a run failing on a database statement left its requests in
    # flight unread: their connections leaked ("all 10 connections to this host
    # are in use" for the rest of the worker process) and up to 1,300 recipients
    # ended uncertain without a request.
    assert_held(result)


def test_visibility_timeout_shorter_than_a_dispatch(
    smsgo_simulator: Simulator,
    settings: Any,
    private_broker: PrivateRedis,
    start_worker: Callable[..., Any],
    worker_logs: Path,
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    gateway.fault("latency", seconds=0.4, count=None)  # a dispatch lasts about 12 s
    smsgo = worker_settings(gateway, settings, DISPATCH_CONNECTIONS=1)
    # Unacknowledged tasks older than 1 s go back to the queue; looked for every second.
    celery = {
        "BROKER_TRANSPORT_OPTIONS": {
            "visibility_timeout": 1,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }
    }
    for n in range(3):
        start_worker(smsgo, name=f"visibility{n}", concurrency=1, celery=celery)
    messages = send_many(2, 1500, first=63_000_000, label="visibility")
    assert sweep_until_done(timeout=240), "recipients left queued or claimed"
    logs = "\n".join(worker_log_texts(worker_logs))
    received = logs.count("] received")
    result = outcome(gateway, worker_logs, settings, messages)
    figures(
        "Redis visibility timeout (1 s) shorter than a dispatch (12 s)",
        tasks_enqueued=len(messages),
        tasks_received=received,
        false_uncertain=result["killed_before_request"],
        **result,
    )
    assert received > len(messages), "the broker never redelivered a task"
    assert_held(result)
    assert result["submitted"] == 3_000

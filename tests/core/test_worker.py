"""Real Celery workers on Redis and PostgreSQL: races, a killed worker, redelivery.

Run with ``DATABASE_URL=postgres://…/smsgo_core CELERY_BROKER_URL=redis://…/3``;
skipped without them. The workers are ``celery -A tests.celery_app worker``
subprocesses on the test database, sending to the simulator this process runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from kombu import Exchange, Queue

from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services import sweeper
from django_smsgo.services.sending import send_sms
from django_smsgo.services.states import batch as batch_state
from django_smsgo.simulator.instance import Simulator
from tests.celery_app import app as celery_app
from tests.core.conftest import send_requests
from tests.workers import worker_command

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL", "").startswith(("redis", "amqp"))
        or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs CELERY_BROKER_URL (Redis or RabbitMQ) and DATABASE_URL (PostgreSQL): "
        "worker processes need a real broker and a database they can share",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "smsgo-core-tests"


class Workers:
    """Starts ``celery worker`` subprocesses on the test database; kills them at the end."""

    def __init__(self, simulator: Simulator, tmp_path: Path) -> None:
        self.simulator = simulator
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, *, visibility_timeout: float = 3600, lease: int = 300
    ) -> subprocess.Popen[bytes]:
        db = connection.settings_dict
        database_url = (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.core.worker_settings",
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
            "SMSGO_TEST_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "SMSGO_TEST_OVERRIDES": json.dumps(
                {
                    "API_URL": self.simulator.base_url,
                    "BACKUP_API_URL": None,
                    "CALLBACK_BASE_URL": None,
                    "CLAIM_LEASE": lease,
                    "DUPLICATE_WINDOW": 0,
                }
            ),
        }
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            worker_command(name, concurrency=2, loglevel="INFO", queue=QUEUE),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches the pool too
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def workers(gateway: Simulator, configure: Any, tmp_path: Path) -> Iterator[Workers]:
    configure(QUEUE=QUEUE, DUPLICATE_WINDOW=0)
    celery_app.conf.task_always_eager = False
    purge_test_queue()
    started = Workers(gateway, tmp_path)
    yield started
    started.stop_all()
    purge_test_queue()


def purge_test_queue() -> None:
    """Empty the tests' queue (declared first: RabbitMQ refuses to purge a missing queue)."""
    with celery_app.connection_for_write() as conn:
        queue = Queue(QUEUE, Exchange(QUEUE), routing_key=QUEUE)(conn.default_channel)
        queue.declare()
        queue.purge()


def wait_for(condition: Callable[[], bool], limit: float = 180.0, step: float = 0.5) -> None:
    """Wait until ``condition()`` holds; fail with a clear message after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {limit} s")
        time.sleep(step)


def open_recipients() -> int:
    return Recipient.objects.filter(status=Recipient.Status.QUEUED).count()


def test_two_workers_race_on_200_messages(workers: Workers, gateway: Simulator) -> None:
    from django_smsgo.tasks import dispatch_message

    gateway.add_account("tester", "s3cret-Pa55word", 100_000)
    messages = [send_sms([f"09{i:04d}{n:04d}" for n in range(60)], f"Race {i}") for i in range(200)]
    # Every message is dispatched twice, so both workers race on the same rows.
    for message in messages:
        dispatch_message.apply_async(args=[message.pk], queue=QUEUE)
    workers.start("race1")
    workers.start("race2")
    # Done when no message waits or is being sent (settled by the last run).
    wait_for(
        lambda: (
            not Message.objects.filter(
                status__in=(Message.Status.QUEUED, Message.Status.SENDING)
            ).exists()
        )
    )
    assert open_recipients() == 0
    assert not Batch.objects.filter(state=Batch.State.CLAIMED).exists()
    assert gateway.duplicates() == {"pairs": 0, "extra_sends": 0}
    assert len(send_requests(gateway)) == 400  # 200 messages x ceil(60/50)
    assert Recipient.objects.filter(status=Recipient.Status.SUBMITTED).count() == 12_000
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SUBMITTED}


def test_a_worker_killed_mid_dispatch_sends_nothing_twice_and_loses_nothing(
    workers: Workers, gateway: Simulator, configure: Any
) -> None:
    configure(ENQUEUE_SWEEP_AGE=1)
    gateway.fault("latency", endpoint="sendsms.aspx", count=None, seconds=0.2)
    message = send_sms([f"0912{n:06d}" for n in range(1500)], "Long campaign")
    batches = message.batches
    first = workers.start("doomed", visibility_timeout=2, lease=4)
    wait_for(lambda: batches.filter(state=Batch.State.SUBMITTED).count() >= 3, step=0.05)
    # The next request to arrive hangs for a while (and is carried out: the
    # gateway accepts it); the worker is killed while it waits for the answer.
    gateway.fault("slow", endpoint="sendsms.aspx", count=1, seconds=8)
    wait_for(lambda: all(f["kind"] == "latency" for f in gateway.state.faults.public()), step=0.05)
    workers.kill(first)
    # What the dead worker held: the hanging batch, and another one if the short
    # visibility timeout had already handed the task to its second process.
    in_flight = list(batches.filter(state=Batch.State.CLAIMED))
    assert in_flight
    in_flight_numbers = {
        phone for batch in in_flight for phone in batch.recipients.values_list("phone", flat=True)
    }
    workers.start("survivor", visibility_timeout=2, lease=4)

    def settled() -> bool:
        sweeper.sweep()  # expires the dead worker's lease; re-enqueues if the task was lost
        return (
            not Recipient.objects.filter(message=message, status=Recipient.Status.QUEUED).exists()
            and not batches.filter(state=Batch.State.CLAIMED).exists()
        )

    wait_for(settled, step=1.0)
    assert gateway.duplicates() == {"pairs": 0, "extra_sends": 0}
    for batch in in_flight:
        batch.refresh_from_db()
        assert batch.state == Batch.State.UNCERTAIN
        assert batch.reason_params == batch_state.LEASE_EXPIRED

    def phones(status: str) -> set[str]:
        return set(message.recipients.filter(status=status).values_list("phone", flat=True))

    submitted, uncertain = phones(Recipient.Status.SUBMITTED), phones(Recipient.Status.UNCERTAIN)
    assert uncertain == in_flight_numbers  # never queued again, never re-sent
    assert len(submitted) + len(uncertain) == 1500  # nothing lost
    gateway.wait_for_callbacks()
    accepted = {n for m in gateway.messages for n in m.receivers}
    # Every submitted number was accepted, and nothing outside what was recorded.
    # An uncertain batch may never have left: the worker can die between its
    # claim's commit and the request's last byte. That is why it is uncertain.
    assert submitted <= accepted <= submitted | uncertain
    assert accepted & uncertain  # the hanging request was carried out (once: no duplicates)


def test_a_redelivered_task_does_nothing(workers: Workers, gateway: Simulator) -> None:
    from django_smsgo.tasks import dispatch_message

    message = send_sms([f"0913{n:06d}" for n in range(120)], "Once")
    workers.start("solo")
    wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.SUBMITTED)
    # The broker hands the same task out again (visibility timeout passed).
    dispatch_message.apply_async(args=[message.pk], queue=QUEUE)
    marker = send_sms("0913999999", "Marker")  # queued behind the redelivery
    wait_for(lambda: Message.objects.get(pk=marker.pk).status == Message.Status.SUBMITTED)
    wait_for(lambda: workers.log("solo").count("dispatch_message") >= 6)
    numbers = {n for m in gateway.messages for n in m.receivers}
    assert len(send_requests(gateway)) == 4  # 3 for the message, 1 for the marker
    assert len(numbers) == 121
    assert gateway.duplicates()["extra_sends"] == 0

"""What every benchmark shares: the project, the database, the simulator, a Celery worker.

The benchmarks run against real parts on loopback: PostgreSQL (its own
database, dropped and created again), Redis as the Celery broker, the bundled
gateway simulator in its own process and ``celery worker`` processes.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.workers import worker_command

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smsgo_bench"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")
ACCOUNT = ("bench", "bench-password")


ROUNDS = 3
#: ``make bench`` measures the 100,000-number dispatch figures only with ``BENCH_FULL=1``.
FULL = os.environ.get("BENCH_FULL", "") not in ("", "0")


@dataclass
class Goal:
    """One goal of the table: the figure of each round (app ÷ anchor, mostly) and the rule.

    ``values`` holds one figure per round, each computed from the app's
    measurement and its anchor's measured in the same round. ``rule`` is
    ``"<="``, ``">="`` or ``""`` (shown for information, no threshold). The
    verdict is taken on the median of the rounds.
    """

    name: str
    rule: str
    threshold: float
    values: list[float]
    measured: str
    anchor: str
    unit: str = "x"

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def passed(self) -> bool | None:
        if not self.rule or not self.values:
            return None
        if self.rule == "<=":
            return self.median <= self.threshold
        return self.median >= self.threshold

    @property
    def goal_text(self) -> str:
        if not self.rule:
            return "(shown, no threshold)"
        sign = "≤" if self.rule == "<=" else "≥"
        return f"{sign} {self.threshold:g}{' ' if self.unit != 'x' else ''}{self.unit}"

    @property
    def figures(self) -> str:
        if not self.values:
            return "n/a"
        low, mid, high = min(self.values), self.median, max(self.values)
        return f"{fmt_figure(low)} / {fmt_figure(mid)} / {fmt_figure(high)}"

    @property
    def verdict(self) -> str:
        return {None: "info", True: "PASS", False: "FAIL"}[self.passed]


def fmt_figure(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}"


def spread(values: list[float], render: Callable[[float], str] = lambda v: f"{v:.2f}") -> str:
    """``min/median/max`` of a round's values, each rendered."""
    if not values:
        return "n/a"
    return "/".join(render(v) for v in (min(values), statistics.median(values), max(values)))


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a process that runs the benchmark project."""
    paths = [str(REPO), str(BENCHMARKS)]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "BENCH_DATABASE_URL": DATABASE_URL,
        "BENCH_BROKER_URL": BROKER_URL,
        **extra,
    }


def setup_django(api_url: str = "http://127.0.0.1:9/sms_gw/", *, eager: bool = False) -> None:
    """Configure this process for the benchmark project and start Django."""
    for path in (str(REPO), str(BENCHMARKS)):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    os.environ["BENCH_DATABASE_URL"] = DATABASE_URL
    os.environ["BENCH_BROKER_URL"] = BROKER_URL
    os.environ["BENCH_API_URL"] = api_url
    if eager:
        os.environ["BENCH_EAGER"] = "1"
    import django

    django.setup()
    # The project's Celery app must exist before a task is sent, or the
    # shared tasks bind to Celery's unconfigured default app.
    import tests.celery_app  # noqa: F401

    point_at(api_url)


def point_at(api_url: str) -> None:
    """Make the running project send to ``api_url`` (settings are re-read on change)."""
    from django.conf import settings
    from django.test.signals import setting_changed

    settings.SMSGO = {**settings.SMSGO, "API_URL": api_url}
    setting_changed.send(sender=None, setting="SMSGO", value=settings.SMSGO, enter=True)


def recreate_database() -> None:
    """Drop and create the benchmark database, then migrate it."""
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0"],
        env=child_env(),
        check=True,
        cwd=REPO,
    )


def truncate_app_tables() -> None:
    """Empty the app's tables between benchmarks, the write-back of the one before done.

    ``CHECKPOINT``: the pages the benchmark before wrote are flushed now, not
    in the middle of the next one's rounds (where they slowed every commit).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(_app_tables())} RESTART IDENTITY CASCADE")
        cursor.execute("CHECKPOINT")


def analyse_app_tables() -> None:
    """``ANALYZE`` the app's tables: the planner's figures of a database in use.

    Rows a benchmark has just stored are otherwise unknown to the planner
    until autovacuum gets round to them, which it may do in the middle of the
    next round.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(_app_tables())}")


def _app_tables() -> list[str]:
    from django.apps import apps

    return [m._meta.db_table for m in apps.get_app_config("django_smsgo").get_models()]


class SimulatorProcess:
    """``python -m django_smsgo.simulator`` in its own process, driven by its admin API."""

    def __init__(self, points: int = 10_000_000, latency: float = 0.0) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django_smsgo.simulator",
                "--port",
                "0",
                "--delivery-delay",
                "0",
                "--account",
                f"{ACCOUNT[0]}:{ACCOUNT[1]}:{points}",
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.process.stdout is not None
        match = re.search(r"(http://\S+/sms_gw/)", self.process.stdout.readline())
        if not match:
            self.process.kill()
            raise SystemExit("the simulator did not start")
        self.base_url = match.group(1)
        parts = urlsplit(self.base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path
        self.set_latency(latency)

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        body = json.dumps(payload) if payload is not None else None
        connection.request(method, f"/_admin/{path}", body=body)
        answer = connection.getresponse()
        data = json.loads(answer.read())
        connection.close()
        if answer.status != 200:
            raise RuntimeError(f"simulator admin {path}: {data}")
        return data

    def reset(self, latency: float = 0.0) -> None:
        """Forget every message and request (accounts stay), then set the latency."""
        self.admin("POST", "reset")
        self.set_latency(latency)

    def set_latency(self, seconds: float) -> None:
        self.admin("DELETE", "faults")
        if seconds:
            self.admin("POST", "faults", {"kind": "latency", "seconds": seconds, "count": None})

    def requests(self, endpoint: str) -> list[dict[str, Any]]:
        audit = self.admin("GET", "audit?kind=requests")["requests"]
        return [r for r in audit if r["endpoint"] == endpoint]

    def connections_since(self, before: dict[str, Any]) -> int:
        """TCP connections others opened since the ``state()`` snapshot ``before``.

        The admin calls in between (this one's included) are not counted.
        """
        after = self.state()
        return int(after["connections_opened"] - before["connections_opened"] - 1)

    def state(self) -> dict[str, Any]:
        return dict(self.admin("GET", "state"))

    def duplicates(self) -> dict[str, int]:
        return dict(self.admin("GET", "audit?kind=duplicates")["duplicates"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Worker:
    """A ``celery worker`` process of the benchmark project."""

    def __init__(self, concurrency: int, api_url: str, name: str = "bench", **env: str) -> None:
        self.process = subprocess.Popen(
            worker_command(name, concurrency=concurrency),
            env=child_env(BENCH_API_URL=api_url, **env),
            cwd=REPO,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        from tests.celery_app import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the Celery worker exited at start-up")
            if app.control.ping(timeout=0.5):
                return
        raise SystemExit("the Celery worker did not answer within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def purge_broker() -> None:
    from tests.celery_app import app

    app.control.purge()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def numbers(count: int, first: int = 0) -> list[str]:
    """``count`` distinct Taiwanese mobile numbers (all delivered by the simulator's rule)."""
    out = []
    n = first
    while len(out) < count:
        # Last digits 91..99 select failure outcomes at the simulator; skip them.
        if n % 100 < 91:
            out.append(f"09{n:08d}")
        n += 1
    return out


def store_submitted(label: str, sent: list[tuple[str, list[str]]]) -> int:
    """A submitted message whose batches went out as ``sent`` (msgid, numbers); its id.

    What a finished dispatch leaves: the message, one submitted batch per
    msgid and its recipients ``submitted``, one ``INSERT`` each, in one
    transaction.
    """
    from django.db import transaction
    from django.utils import timezone

    from django_smsgo.models import Batch, Message, Recipient

    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            body=label,
            body_hash=label.replace(" ", "-"),
            encoding="ASCII",
            status=Message.Status.SUBMITTED,
            recipient_count=sum(len(chunk) for _, chunk in sent),
            submitted_at=now,
        )
        batches = Batch.objects.bulk_create(
            Batch(
                message=message,
                state=Batch.State.SUBMITTED,
                msgid=msgid,
                points=len(chunk),
                submitted_at=now,
            )
            for msgid, chunk in sent
        )
        Recipient.objects.bulk_create(
            (
                Recipient(
                    message=message,
                    phone=phone,
                    batch=batch,
                    status=Recipient.Status.SUBMITTED,
                    submitted_at=now,
                )
                for batch, (_, chunk) in zip(batches, sent, strict=True)
                for phone in chunk
            ),
            batch_size=5000,
        )
    return message.pk


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` holds the seconds taken."""
    box = [0.0]
    started = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - started


def fmt_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


_MSGID = re.compile(rb"msgid=(\S+)")


def bare_send(
    simulator: SimulatorProcess, chunks: list[list[str]], body: str, connections: int = 1
) -> tuple[float, list[tuple[str, list[str]]]]:
    """The anchor: ``sendsms.aspx`` with each chunk of numbers, bare ``http.client``.

    ``connections`` threads, each with one keep-alive connection opened
    beforehand, take the chunks in order from a shared queue; nothing is
    parsed but the msgid. Returns the seconds from the first request to the
    last answer and the ``(msgid, numbers)`` of every request.
    """
    import queue
    import threading
    from urllib.parse import urlencode

    work: queue.SimpleQueue[tuple[int, list[str]]] = queue.SimpleQueue()
    for index, chunk in enumerate(chunks):
        work.put((index, chunk))
    answers: list[tuple[str, list[str]]] = [("", [])] * len(chunks)
    pool = [
        http.client.HTTPConnection(simulator.host, simulator.port, timeout=60)
        for _ in range(connections)
    ]
    for connection in pool:
        connection.connect()
    go = threading.Event()

    def loop(connection: http.client.HTTPConnection) -> None:
        go.wait()
        while True:
            try:
                index, chunk = work.get_nowait()
            except queue.Empty:
                return
            query = urlencode(
                {
                    "username": ACCOUNT[0],
                    "password": ACCOUNT[1],
                    "dstaddr": ",".join(chunk),
                    "encoding": "ASCII",
                    "smbody": body,
                }
            )
            connection.request("GET", f"{simulator.path}sendsms.aspx?{query}")
            answer = connection.getresponse().read()
            match = _MSGID.search(answer)
            if match is None:
                raise RuntimeError(f"bare send refused: {answer[:200]!r}")
            answers[index] = (match.group(1).decode(), chunk)

    threads = [threading.Thread(target=loop, args=(c,)) for c in pool]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for connection in pool:
        connection.close()
    return seconds, answers


def chunked(items: list[str], size: int = 50) -> list[list[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def seed_queued_message(count: int, first_phone: int) -> int:
    """A draft message with ``count`` unclaimed recipients, by one SQL statement (fast).

    It is never dispatched: it stands for the other large messages a table holds.
    """
    from django.db import connection

    from django_smsgo.models import Message, Recipient

    message = Message.objects.create(
        body=f"other large message {first_phone}",
        body_hash=f"other-{first_phone}",
        encoding="ASCII",
        status=Message.Status.DRAFT,
        recipient_count=count,
    )
    table = connection.ops.quote_name(Recipient._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (message_id, phone, intended_phone, status, gateway_status,
                                 reason_code, reason_params, created_at, updated_at)
            SELECT %s, '09' || lpad((%s + n)::text, 8, '0'), '', 'queued', '', '', '{{}}',
                   now(), now()
            FROM generate_series(0, %s - 1) AS n
            """,  # noqa: S608
            [message.pk, first_phone, count],
        )
        cursor.execute(f"ANALYZE {table}")
    return int(message.pk)

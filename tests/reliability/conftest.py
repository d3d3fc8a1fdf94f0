"""The fault-and-load suite: real PostgreSQL, a real broker, real ``celery worker`` processes.

Every scenario records its figures (sent, acknowledged, duplicates, lost)
through the ``figures`` fixture; they are printed as a table at the end of
the run and written to ``test-artifacts/reliability-figures.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from django_smsgo.simulator.pytest_plugin import (  # noqa: F401 - fixtures
    smsgo_simulator,
    smsgo_simulator_accounts,
    smsgo_simulator_config,
    smsgo_simulator_factory,
)
from tests.workers import worker_command

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "test-artifacts" / "reliability-figures.json"
RECORDED: list[dict[str, Any]] = []

NEEDS_SERVICES = (
    "the reliability suite needs PostgreSQL and a broker: set DATABASE_URL=postgres://... "
    "and CELERY_BROKER_URL"
)


def services_missing() -> bool:
    database = os.environ.get("DATABASE_URL", "")
    return not (database.startswith("postgres") and os.environ.get("CELERY_BROKER_URL"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not services_missing():
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=NEEDS_SERVICES)
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RECORDED:
        return
    terminalreporter.section("reliability figures")
    for row in RECORDED:
        figures = ", ".join(f"{k} {v}" for k, v in row.items() if k != "scenario")
        terminalreporter.write_line(f"{row['scenario']}: {figures}")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(RECORDED, indent=2), encoding="utf-8")


@pytest.fixture
def figures() -> Callable[..., None]:
    """``figures("scenario", sent=..., acknowledged=..., lost=...)``: print and keep figures."""

    def record(scenario: str, **values: Any) -> None:
        row = {"scenario": scenario, **values}
        RECORDED.append(row)
        print(f"\n[reliability] {scenario}: " + ", ".join(f"{k}={v}" for k, v in values.items()))

    return record


@pytest.fixture
def smsgo_simulator_config() -> Any:  # noqa: F811 - narrows the plugin's default
    from django_smsgo.simulator import SimulatorConfig

    return SimulatorConfig(delivery_delay=0, callback_retry_delay=0.2, audit_limit=200_000)


@pytest.fixture
def smsgo_simulator_accounts() -> Any:  # noqa: F811 - more points than the default
    from django_smsgo.simulator import Account

    return [Account("tester", "s3cret-Pa55word", 10_000_000)]


@pytest.fixture
def celery_app() -> Iterator[Any]:
    """The test project's Celery app on the real broker, its queue empty."""
    from tests.celery_app import app

    app.conf.task_always_eager = False
    app.control.purge()
    yield app
    app.control.purge()


@pytest.fixture
def eager(celery_app: Any) -> Iterator[None]:
    """Run tasks in this process (for scenarios about callbacks and input, not workers)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


class WorkerProcess:
    """``celery worker`` in its own process group (so SIGKILL takes its pool too).

    Its output (log level INFO: every task and its result, every warning and
    error) goes to ``self.log``, which the scenarios scan for secrets.
    ``celery`` holds extra ``CELERY_*`` settings (e.g. broker transport options),
    ``env`` extra environment (e.g. another ``CELERY_BROKER_URL``).
    """

    def __init__(
        self,
        smsgo: dict[str, Any],
        name: str,
        concurrency: int = 1,
        *,
        log: Path,
        celery: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> None:
        url = current_database_url()
        self.name = name
        self.log = log
        self.env = env or {}
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                worker_command(name, concurrency=concurrency, loglevel="INFO"),
                env={
                    **os.environ,
                    "DJANGO_SETTINGS_MODULE": "tests.reliability.worker_settings",
                    "DATABASE_URL": url,
                    "RELIABILITY_SMSGO": json.dumps(smsgo),
                    "RELIABILITY_CELERY": json.dumps(celery or {}),
                    "PYTHONPATH": str(REPO),
                    **self.env,
                },
                cwd=REPO,
                start_new_session=True,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        from tests.celery_app import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited at start-up: see {self.log}")
            replies = app.control.ping(timeout=0.5)
            if any(self.name in name for reply in replies for name in reply):
                return
        raise RuntimeError(f"worker {self.name} did not answer within {timeout} s")

    def pool_children(self) -> list[int]:
        """The pids of the worker's pool processes (the children of its main process)."""
        try:
            path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no clean-up, no acknowledgement."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def worker_logs(request: pytest.FixtureRequest) -> Path:
    """The folder the test's workers write their output to (kept after the run).

    Under ``test-artifacts/``, not pytest's temporary folders, which another
    pytest run on the same machine may remove while the workers still write.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:120]
    folder = ARTIFACT.parent / "worker-logs" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def start_worker(celery_app: Any, worker_logs: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """``start_worker(smsgo_settings, name=..., concurrency=...)``; all stopped after the test.

    The keyword arguments ``celery``, ``env`` and ``wait`` go to :class:`WorkerProcess`.
    """
    started: list[WorkerProcess] = []

    def start(
        smsgo: dict[str, Any], name: str = "w1", concurrency: int = 1, **options: Any
    ) -> WorkerProcess:
        worker = WorkerProcess(smsgo, name, concurrency, log=worker_logs / f"{name}.log", **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def secret_forms(secret: str) -> set[str]:
    """``secret`` as it may appear in a log: as is, URL-encoded (both ways), repr-escaped."""
    from urllib.parse import quote, quote_plus

    return {secret, quote(secret, safe=""), quote_plus(secret), repr(secret)[1:-1]}


def count_secrets(texts: list[str], secrets: list[str]) -> int:
    """How many times any form of any of ``secrets`` occurs in ``texts``."""
    forms = {form for secret in secrets if secret for form in secret_forms(secret)}
    return sum(text.count(form) for text in texts for form in forms)


def worker_log_texts(folder: Path) -> list[str]:
    """Everything the test's workers wrote."""
    return [path.read_text(errors="replace") for path in sorted(folder.glob("*.log"))]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (a bound, not a measure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def current_database_url() -> str:
    """The URL of the database this test run uses (pytest-django's test database)."""
    from django.db import connection

    database = connection.settings_dict
    return (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


@contextlib.contextmanager
def gunicorn(smsgo: dict[str, Any] | None = None, log: Path | None = None) -> Iterator[str]:
    """The test project under gunicorn (2 processes x 4 threads) on loopback; yields its URL.

    ``smsgo``: ``SMSGO`` keys for its processes; ``log``: where its output goes.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    output = log.open("ab") if log is not None else None
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "tests.reliability.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.reliability.worker_settings",
            "DATABASE_URL": current_database_url(),
            "RELIABILITY_SMSGO": json.dumps(smsgo or {}),
            "PYTHONPATH": str(REPO),
        },
        cwd=REPO,
        start_new_session=True,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: _listening(port), timeout=60, interval=0.2):
            raise RuntimeError("gunicorn did not start within 60 s")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        if output is not None:
            output.close()


@pytest.fixture
def callback_server(transactional_db: None) -> Iterator[str]:
    """The test project under gunicorn (2 processes x 4 threads) on loopback; yields its URL."""
    with gunicorn() as url:
        yield url


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def callback_tokens(batch_ids: list[int]) -> list[str]:
    """The report and reply tokens of these batches, and the signing secret itself."""
    from django_smsgo.conf import smsgo_settings
    from django_smsgo.services.callback_urls import make_token

    tokens = [make_token(kind, pk) for pk in batch_ids for kind in ("report", "reply")]
    return [*tokens, str(smsgo_settings.CALLBACK_TOKEN)]


def false_uncertain(uncertain_phones: list[str], reached: Any) -> int:
    """Uncertain recipients no send request carrying them ever reached the gateway.

    ``reached``: a container of the numbers that were in at least one send
    request the gateway received (carried out or not).
    """
    return sum(1 for phone in uncertain_phones if phone not in reached)

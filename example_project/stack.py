"""Start and stop the example site's processes: the simulator, the web server, a Celery worker.

Shared by ``demo.py`` (runs the main job end to end, then stops everything) and
``serve.py`` (leaves the site running). Each process runs in its own process
group with its output in a log file, and :meth:`Stack.stop` ends every process
the stack started, whatever happened before (``with Stack(...) as stack:``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
PYTHON = sys.executable


class StackError(RuntimeError):
    """A process did not start, or stopped while it was needed."""


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def project_environment(workdir: Path, **smsgo: str) -> dict[str, str]:
    """Environment for ``example_project.settings``: paths inside ``workdir`` and ``SMSGO_*``.

    ``DATABASE_URL`` and ``CELERY_BROKER_URL`` are passed on unchanged when set,
    so the same demo runs on PostgreSQL and Redis or RabbitMQ.
    """
    env = dict(os.environ)
    paths = [str(REPOSITORY), str(HERE), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("EXAMPLE_SQLITE_PATH", str(workdir / "db.sqlite3"))
    env.setdefault("EXAMPLE_BROKER_DIR", str(workdir / "broker"))
    for name, value in smsgo.items():
        env[f"SMSGO_{name.upper()}"] = value
    return env


@dataclass
class Process:
    """One child process and the log file its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes] = field(repr=False)

    def running(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


class Stack:
    """The processes of one run; :meth:`stop` ends them all (also on error or Ctrl-C)."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.processes: list[Process] = []
        (workdir / "logs").mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and not isinstance(exc, StackError | KeyboardInterrupt | SystemExit):
            # A StackError carries the log of the process concerned already.
            self.print_logs()
        self.stop()

    def start(self, name: str, args: Sequence[str], cwd: Path = HERE) -> Process:
        """Start ``args`` in its own process group, output to ``logs/<name>.log``."""
        log = self.workdir / "logs" / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            list(args),
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            # Its own group: Ctrl-C reaches only this script, which then stops
            # the children in order instead of all of them at once.
            start_new_session=True,
        )
        process = Process(name, popen, log, handle)
        self.processes.append(process)
        return process

    def wait_for(
        self, process: Process, ready: Callable[[], bool], what: str, timeout: float = 60
    ) -> None:
        """Wait until ``ready()``; fail with the process's log when it exits or times out."""
        deadline = time.monotonic() + timeout
        while not ready():
            if not process.running():
                raise StackError(
                    f"{process.name} exited (code {process.popen.returncode}) before {what}:\n"
                    f"{process.tail()}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{process.name}: no {what} after {timeout:.0f} s:\n{process.tail()}"
                )
            time.sleep(0.1)

    # -- the three services ---------------------------------------------------------

    def start_simulator(self, port: int = 0, delivery_delay: float = 1.0) -> str:
        """The bundled gateway simulator; returns its base URL (ending in ``/sms_gw/``)."""
        process = self.start(
            "simulator",
            [
                PYTHON, "-m", "django_smsgo.simulator",
                "--port", str(port),
                "--account", "demo:demo:100000",
                "--delivery-delay", str(delivery_delay),
                "--callback-retry-delay", "0.5",
            ],
        )  # fmt: skip
        found: list[str] = []

        def announced() -> bool:
            match = re.search(r"smsgo simulator: (\S+)", process.output())
            if match:
                found.append(match.group(1))
            return bool(match)

        self.wait_for(process, announced, "its URL")
        return found[0]

    def start_web(self, port: int) -> str:
        """Django's development server (callback URLs, admin, API); returns its origin."""
        process = self.start(
            "web",
            [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        )
        self.wait_for(process, lambda: accepts_connections(port), f"listener on port {port}")
        return f"http://127.0.0.1:{port}"

    def start_worker(self, *, beat: bool = False) -> Process:
        """A Celery worker on the project's broker (a folder unless CELERY_BROKER_URL is set)."""
        args = [
            PYTHON, "-m", "celery", "-A", "example_project", "worker",
            "--loglevel", "INFO", "--concurrency", "2", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        if beat:
            args += ["--beat", "--schedule", str(self.workdir / "celerybeat-schedule")]
        process = self.start("worker", args)
        self.wait_for(process, lambda: " ready." in process.output(), "'ready.' line", 90)
        return process

    # -- the end ----------------------------------------------------------------------

    def check_alive(self) -> None:
        """Raise when a process of the stack has stopped on its own."""
        for process in self.processes:
            if not process.running():
                raise StackError(
                    f"{process.name} stopped (code {process.popen.returncode}):\n{process.tail()}"
                )

    def print_logs(self) -> None:
        for process in self.processes:
            print(f"\n--- last lines of {process.log} ---\n{process.tail()}", file=sys.stderr)

    def stop(self) -> None:
        """End every process this stack started: SIGTERM to its group, SIGKILL if it lingers."""
        for process in reversed(self.processes):
            if process.running():
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.popen.wait(timeout=5)
            process.handle.close()
        self.processes.clear()


def _signal_group(process: Process, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signum)


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` so that ``finally`` blocks stop the children."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def setup_django(env: dict[str, str]) -> None:
    """Configure Django in this process exactly like the children (same environment)."""
    os.environ.update(env)
    for path in (str(HERE), str(REPOSITORY)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()

"""A fresh ``django-admin startproject`` with the app added, driven through real processes.

What a new user has after the first steps: Django's default settings (SQLite
included), the app in ``INSTALLED_APPS``, its URLs included, the ``SMSGO``
settings given. Servers (``runserver``, the simulator, ``smsgo_jobs``) run as
processes of their own, each in its own session so the whole group stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]

URLS = """\
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("smsgo/", include("django_smsgo.urls")),
]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Return once ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Project:
    """A new project ``mysite`` in ``root``, run with ``python`` (this interpreter by default)."""

    def __init__(self, root: Path, python: str = sys.executable, *, from_checkout: bool = True):
        self.root = root
        self.python = python
        self.dir = root / "mysite"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL")
        }
        if from_checkout:
            # The package from this checkout, as pip install would have provided it.
            self.env["PYTHONPATH"] = str(REPOSITORY)
        self.env["PYTHONUNBUFFERED"] = "1"
        self.background: list[subprocess.Popen[bytes]] = []

    def create(self, smsgo: dict[str, Any], extra_settings: str = "") -> Project:
        """``startproject mysite``, the app, its URLs and ``SMSGO = smsgo``."""
        subprocess.run(
            [self.python, "-m", "django", "startproject", "mysite"],
            cwd=self.root, env=self.env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        with (self.dir / "mysite" / "settings.py").open("a", encoding="utf-8") as handle:
            handle.write('\nINSTALLED_APPS += ["django_smsgo"]\n')
            handle.write(f"SMSGO = {smsgo!r}\n")
            handle.write(extra_settings)
        (self.dir / "mysite" / "urls.py").write_text(URLS, encoding="utf-8")
        return self

    def manage(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.python, "manage.py", *args], cwd=self.dir, env=self.env,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if check:
            assert done.returncode == 0, f"manage.py {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code).stdout

    def shell_json(self, code: str) -> Any:
        """Run ``code`` in the project's shell; it prints one JSON value last."""
        return json.loads(self.shell(code).strip().splitlines()[-1])

    def start(self, *args: str, log_name: str) -> subprocess.Popen[bytes]:
        """Start ``python <args>`` in the background (its output in ``log_name``)."""
        log = (self.root / log_name).open("wb")
        process = subprocess.Popen(
            [self.python, *args], cwd=self.dir, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.background.append(process)
        return process

    def log(self, log_name: str) -> str:
        return (self.root / log_name).read_text(encoding="utf-8", errors="replace")

    def runserver(self, port: int, *extra: str) -> subprocess.Popen[bytes]:
        process = self.start(
            "manage.py", "runserver", f"127.0.0.1:{port}", *extra, log_name=f"runserver-{port}.log"
        )
        wait_until(lambda: port_open(port) or process.poll() is not None, "runserver listening")
        assert process.poll() is None, self.log(f"runserver-{port}.log")
        return process

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` to the process's group and wait for it; return its exit status."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait()

    def stop_all(self) -> None:
        for process in self.background:
            if process.poll() is None:
                self.stop(process)
            # runserver's autoreloader child, if it outlived its parent.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

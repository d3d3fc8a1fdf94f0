"""The quickstart, followed literally in a new project, ends with an SMS delivered.

The blocks of ``docs/quickstart.rst`` (and of its Traditional Chinese version)
up to "Where to go next" are run in document order: console blocks captioned
``terminal`` are run as commands (servers in the background), Python blocks
captioned with a ``mysite/`` file are written to that file (``settings.py`` is
appended to), and blocks captioned ``python manage.py shell`` are run in the
project's shell. Only the ports change: the simulator's 8765 and runserver's
8000 become free ports, so the test can run beside anything else on the machine.

The project is what ``startproject`` made: SQLite, ``runserver``, no broker.
After the page, the same project sends to 50 numbers and every delivery report
must be acknowledged on the gateway's first attempt (the simulator, in its own
process, records each attempt), and the admin must answer in Traditional
Chinese to a browser that asks for it.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import importlib.util
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.example.rst_blocks import CodeBlock, code_blocks

REPOSITORY = Path(__file__).resolve().parents[2]
DOCS = REPOSITORY / "docs"
PAGES = ["quickstart.rst", "quickstart.zh-Hant.rst"]
FIRST_SMS_LINE = "1 queued BIG5 1"
DELIVERED_LINE = "0912345678 delivered DELIVRD"
CONSOLE_CAPTIONS = {"terminal", "終端機"}
SERVERS = (
    "python -m django_smsgo.simulator",
    "python manage.py runserver",
    "python manage.py smsgo_jobs",
)
#: The heading after which the page is no longer steps to follow literally.
STEPS_END = {"quickstart.rst": "Where to go next", "quickstart.zh-Hant.rst": "接下來"}
READY_LINE = "Ready to send."
MASS_SEND = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_line(
    path: Path, line: str, process: subprocess.Popen[bytes], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        if line in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.1)
    pytest.fail(f"{process.args}: no {line!r} after {timeout} s")


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{process.args}: nothing listens on port {port} after {timeout} s")


class Follower:
    """Someone following the page: a working directory, a shell, two more terminals."""

    def __init__(self, workdir: Path) -> None:
        self.cwd = workdir
        self.simulator_port = free_port()
        self.web_port = free_port()
        self.background: list[subprocess.Popen[bytes]] = []
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL")
        }
        # The package from this checkout, as ``pip install`` would have provided it.
        self.env["PYTHONPATH"] = str(REPOSITORY)
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"

    def localise(self, text: str) -> str:
        """The page's text with this test's ports instead of the documented ones."""
        text = text.replace("127.0.0.1:8765", f"127.0.0.1:{self.simulator_port}")
        return text.replace("127.0.0.1:8000", f"127.0.0.1:{self.web_port}")

    def argv(self, command: str) -> list[str]:
        words = shlex.split(command)
        if words[0] == "python":
            return [sys.executable, *words[1:]]
        if words[0] == "django-admin":
            return [sys.executable, "-m", "django", *words[1:]]
        return words

    def run(self, command: str) -> str:
        if command.startswith("pip install"):
            # Installed already in this environment; what the page installs must be importable.
            assert importlib.util.find_spec("django_smsgo"), "django_smsgo is not importable"
            return ""
        if command.startswith("cd "):
            self.cwd = self.cwd / command[3:].strip()
            assert self.cwd.is_dir(), f"{command}: no such directory"
            return ""
        if command.startswith(SERVERS):
            self.start_server(command)
            return ""
        done = subprocess.run(
            self.argv(self.localise(command)), cwd=self.cwd, env=self.env,
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start_server(self, command: str) -> None:
        port: int | None
        if "simulator" in command:
            port = self.simulator_port
            argv = [*self.argv(command), "--port", str(port)]
        elif "runserver" in command:
            port = self.web_port
            argv = self.argv(self.localise(command))
            assert argv[-1] == f"127.0.0.1:{port}", "runserver must listen on CALLBACK_BASE_URL"
        else:
            port = None
            argv = self.argv(command)
        log_path = self.cwd / f"server-{port or 'jobs'}.log"
        log = log_path.open("wb")
        # A session of its own: runserver's autoreloader runs the server in a
        # child process, and the whole group must stop at the end.
        process = subprocess.Popen(
            argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.background.append(process)
        if port is not None:
            wait_for_port(port, process)
        else:
            wait_for_line(log_path, "smsgo_jobs: running", process)

    def write(self, block: CodeBlock) -> None:
        path = re.match(r"mysite/[\w/]+\.py", block.caption)
        assert path, f"line {block.line}: no file in the caption {block.caption!r}"
        target = self.cwd / path.group()
        code = self.localise(block.code)
        if target.name == "settings.py":
            with target.open("a", encoding="utf-8") as handle:
                handle.write("\n" + code)
        else:
            target.write_text(code, encoding="utf-8")

    def shell(self, block: CodeBlock) -> str:
        return self.run_shell(self.localise(block.code))

    def run_shell(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"shell:\n{code}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def stop(self) -> None:
        for process in self.background:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.background:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # The autoreloader's child, if it outlived its parent.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[Follower]:
    person = Follower(tmp_path)
    try:
        yield person
    finally:
        person.stop()


def wait_for_delivery(follower: Follower, block: CodeBlock) -> str:
    """Run the status block until the report has arrived (the simulator delivers after 2 s)."""
    deadline = time.monotonic() + 60
    while True:
        output = follower.shell(block)
        if DELIVERED_LINE in output or time.monotonic() > deadline:
            return output
        time.sleep(1)


def steps(page: str) -> list[CodeBlock]:
    """The page's blocks up to the heading where the literal steps end."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    end = lines.index(STEPS_END[page])
    return [block for block in code_blocks(DOCS / page) if block.line < end]


@pytest.mark.parametrize("page", PAGES)
def test_quickstart_followed_literally_delivers_an_sms(page: str, follower: Follower) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    # The page promises these outputs; the run below must produce them.
    assert FIRST_SMS_LINE in text
    assert DELIVERED_LINE in text
    assert READY_LINE in text
    outputs: list[str] = []
    shell_blocks = 0
    doctor = ""
    for block in steps(page):
        if block.language == "console" and block.caption in CONSOLE_CAPTIONS:
            for command in block.commands():
                outputs.append(follower.run(command))
                if "smsgo_doctor" in command:
                    doctor = outputs[-1]
        elif block.language == "python" and block.caption.startswith("mysite/"):
            follower.write(block)
        elif block.language == "python" and "manage.py shell" in block.caption:
            shell_blocks += 1
            if "recipients.get()" in block.code:
                outputs.append(wait_for_delivery(follower, block))
            else:
                outputs.append(follower.shell(block))

    assert shell_blocks == 3, f"{page}: expected the three shell blocks of step 9"
    first_sms, status, bad_input = outputs[-3:]
    assert FIRST_SMS_LINE in first_sms.splitlines(), first_sms
    assert DELIVERED_LINE in status, f"no delivery report reached the site:\n{status}"
    # The refusal names the bad number; nothing was stored for it.
    assert "12345" in bad_input, bad_input
    count = follower.run_shell(
        "from django_smsgo.models import Message; print(Message.objects.count())"
    )
    assert count.split()[-1] == "1"
    # The doctor passed the setup the page builds (run() fails on a non-zero exit).
    assert doctor.rstrip().endswith(READY_LINE), doctor
    assert "FAIL" not in doctor, doctor

    every_report_acknowledged_first_time(follower)
    the_admin_speaks_chinese(follower)


def every_report_acknowledged_first_time(follower: Follower) -> None:
    """Send to 50 numbers; each report is acknowledged by the site on its first attempt."""
    numbers = [f"09{n:08d}" for n in range(14_000_000, 14_000_000 + MASS_SEND)]
    msgid = follower.run_shell(
        "from django_smsgo import send_sms\n"
        f"m = send_sms({numbers!r}, 'Your parcel is on its way')\n"
        "print(m.batches.get().msgid)"
    ).split()[-1]
    audit = f"http://127.0.0.1:{follower.simulator_port}/_admin/audit?kind=callbacks"
    deadline = time.monotonic() + 90
    while True:
        with urllib.request.urlopen(audit, timeout=10) as answer:
            callbacks = json.load(answer)["callbacks"]
        reports = [c for c in callbacks if str(c["msgid"]) == msgid and c["kind"] == "report"]
        if len({c["number"] for c in reports}) == MASS_SEND or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    first_tries = [c for c in reports if c["attempt"] == 1]
    assert len(first_tries) == MASS_SEND, f"{len(first_tries)} of {MASS_SEND} reports arrived"
    not_acknowledged = [c for c in reports if not c["acknowledged"]]
    assert not_acknowledged == [], not_acknowledged[:3]
    statuses = follower.run_shell(
        "import json; from django_smsgo.models import Message\n"
        "m = Message.objects.latest('created_at')\n"
        "print(json.dumps(m.recipients.status_counts()))"
    )
    assert json.loads(statuses.splitlines()[-1]) == {"delivered": MASS_SEND}


def the_admin_speaks_chinese(follower: Follower) -> None:
    """A browser asking for zh-TW gets the SMS console in Traditional Chinese."""
    follower.run_shell(
        "from django.contrib.auth.models import User\n"
        "User.objects.create_superuser('staff', 'staff@example.com', 'pw-not-secret')"
    )
    site = f"http://127.0.0.1:{follower.web_port}"
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    browser.addheaders = [("Accept-Language", "zh-TW,zh;q=0.9")]
    with browser.open(f"{site}/admin/login/", timeout=30) as page:
        login = page.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login)
    assert token, login[:500]
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": "staff",
            "password": "pw-not-secret",
            "next": "/admin/django_smsgo/message/",
        }
    ).encode()
    with browser.open(f"{site}/admin/login/?next=/admin/django_smsgo/message/", form) as page:
        changelist = page.read().decode()
    assert "撰寫簡訊" in changelist, changelist[:1000]

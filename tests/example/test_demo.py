"""``make demo`` and ``make serve``, run for real: every process, over loopback.

The demo must exit 0 with the final table the README promises, and leave no
process behind; serve must print a staff login that works, and stop everything
on SIGTERM.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

REPOSITORY = Path(__file__).resolve().parents[2]
PROJECT = REPOSITORY / "example_project"

#: The simulator's outcome rule (last two digits) decides each row.
EXPECTED_ROWS = [
    ("0912000001", "delivered", "DELIVRD"),
    ("0912000091", "failed", "UNDELIV"),
    ("0912000092", "failed", "ABSENT"),
    ("0912000093", "failed", "EXPIRED"),
    ("0912000098", "failed", "ACCEPTD"),
]


def script_env(**extra: str) -> dict[str, str]:
    """The environment of a person at a shell: none of the suite's Django or Celery settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SMSGO_", "EXAMPLE_", "CELERY_")) and k != "DATABASE_URL"
    }
    env.update(extra)
    return env


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def run_demo(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, str(PROJECT / "demo.py")],
        cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return done.stdout


def assert_demo_story(output: str) -> None:
    # Every report arrived over HTTP from the simulator (Phase Two), none by polling.
    for number, _, statusstr in EXPECTED_ROWS:
        assert re.search(rf"callback\s*{number}\s+{statusstr}\b", output), output
    table = output.split("== Final status of message", 1)[1].split("==", 1)[0]
    rows = [line.split() for line in table.splitlines() if re.match(r"09\d{8}\s", line)]
    assert [tuple(row) for row in rows] == EXPECTED_ROWS, table
    assert re.search(r"sendsms_cancel\.asp msgid \d+: cancelled", output), output
    assert re.search(r"message #\d+ is cancelled", output), output
    assert "from 0912000001: 收到，謝謝！" in output, output

    # Nothing is left running: the simulator's and the web server's ports are
    # closed and the worker's process is gone.
    simulator = re.search(r"simulator\s+(http://\S+)", output)
    web = re.search(r"web server\s+(http://127\.0\.0\.1:\d+)", output)
    worker = re.search(r"Celery worker pid (\d+)", output)
    assert simulator, output
    assert web, output
    assert worker, output
    for url in (simulator.group(1), web.group(1)):
        port = urlsplit(url).port
        assert port is not None
        assert not listening(port), f"{url} still answers"
    assert not process_exists(int(worker.group(1)))


def test_demo_runs_the_main_job_end_to_end_and_stops_everything() -> None:
    assert_demo_story(run_demo(script_env()))


@pytest.mark.postgres
def test_demo_on_postgresql_and_a_broker_unchanged() -> None:
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith("postgres") or not broker_url:
        pytest.skip("needs DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL")
    import psycopg

    # A database of its own, next to the suite's, created when missing.
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") + "_example_demo"
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = script_env(
        DATABASE_URL=parts._replace(path=f"/{name}").geturl(),
        CELERY_BROKER_URL=broker_url,
        # Its own queue: the suite's workers on the same broker never see its tasks.
        EXAMPLE_CELERY_QUEUE=f"smsgo-example-demo-{os.getpid()}",
    )
    output = run_demo(env)
    assert "database      postgresql" in output, output
    assert f"Celery broker {broker_url}" in output, output
    assert_demo_story(output)


def test_serve_prints_a_staff_login_that_works_and_stops_on_sigterm(tmp_path: Path) -> None:
    # A port in use is replaced by a free one: ask for one that is taken.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = str(taken.getsockname()[1])
    env = script_env(
        EXAMPLE_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        EXAMPLE_BROKER_DIR=str(tmp_path / "broker"),
        SERVE_PORT=busy,
        SIMULATOR_PORT=busy,
    )
    log = (tmp_path / "serve.log").open("w+")
    serve = subprocess.Popen(
        [sys.executable, str(PROJECT / "serve.py")],
        cwd=REPOSITORY, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        login = None
        deadline = time.monotonic() + 120
        while login is None and time.monotonic() < deadline and serve.poll() is None:
            time.sleep(0.5)
            login = re.search(
                r"(http://127\.0\.0\.1:\d+)/admin/\s+login: (\S+)\s+password: (\S+)",
                (tmp_path / "serve.log").read_text(),
            )
        output = (tmp_path / "serve.log").read_text()
        assert login, output
        origin, username, password = login.groups()
        assert urlsplit(origin).port != int(busy)

        # Log in to the admin with the printed credentials.
        session = requests.Session()
        page = session.get(f"{origin}/admin/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        answer = session.post(
            f"{origin}/admin/login/?next=/admin/",
            data={"username": username, "password": password,
                  "csrfmiddlewaretoken": token.group(1), "next": "/admin/"},
            headers={"Referer": f"{origin}/admin/login/"},
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 200
        assert answer.url.rstrip("/").endswith("/admin"), answer.url
        assert "django_smsgo" in answer.text or "Messages" in answer.text

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
        port = urlsplit(origin).port
        assert port is not None
        assert not listening(port)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        log.close()
        taken.close()


def test_demo_interrupted_with_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        demo = subprocess.Popen(
            [sys.executable, str(PROJECT / "demo.py")],
            cwd=REPOSITORY, env=script_env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            # Interrupt once every process runs and the demo waits for the first
            # delivery reports (a wait loop: the interrupt lands in our code, not
            # in the middle of a library call that might swallow it).
            deadline = time.monotonic() + 120
            while "== Delivery reports" not in log_path.read_text() and time.monotonic() < deadline:
                assert demo.poll() is None, log_path.read_text()
                time.sleep(0.1)
            demo.send_signal(signal.SIGINT)
            assert demo.wait(timeout=60) == 130
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait()
    output = log_path.read_text()
    assert "interrupted: every process started was stopped" in output
    worker = re.search(r"Celery worker pid (\d+)", output)
    web = re.search(r"web server\s+(http://127\.0\.0\.1:\d+)", output)
    assert worker, output
    assert web, output
    assert not process_exists(int(worker.group(1)))
    port = urlsplit(web.group(1)).port
    assert port is not None
    assert not listening(port)

"""``manage.py smsgo_doctor`` catches each broken setup a new user builds, and passes a good one.

Real parts: the bundled simulator as the gateway, pytest-django's live server
as the site the callback probe must reach, tiny HTTP servers as "another
server on that port", and a real broker where CELERY_BROKER_URL is set.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_smsgo.models import CallbackProbe, JobRun
from django_smsgo.services import dispatching
from django_smsgo.simulator.instance import Simulator
from tests.example.project import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def doctor(*args: str) -> tuple[int, dict[str, list[dict[str, str]]]]:
    """Run the doctor with ``--json``; its exit status and findings by check."""
    out = StringIO()
    status = 0
    try:
        call_command("smsgo_doctor", "--json", "--timeout", "5", *args, stdout=out)
    except SystemExit as exit:
        status = int(exit.code or 0)
    report = json.loads(out.getvalue())
    by_check: dict[str, list[dict[str, str]]] = {}
    for finding in report["checks"]:
        by_check.setdefault(finding["check"], []).append(finding)
    assert report["ok"] == (status == 0)
    return status, by_check


def statuses(findings: dict[str, list[dict[str, str]]], check: str) -> set[str]:
    return {f["status"] for f in findings[check]}


def jobs_ran(*names: str, ago: float = 5) -> None:
    at = timezone.now() - timedelta(seconds=ago)
    for name in names:
        JobRun.objects.update_or_create(
            name=name,
            defaults={"started_at": at, "finished_at": at, "succeeded": True, "runner": "test"},
        )


@pytest.fixture
def good_setup(gateway: Simulator, live_server: Any, configure: Callable[..., None]) -> Simulator:
    """The site served by a live server, its own origin as CALLBACK_BASE_URL, jobs running."""
    configure(CALLBACK_BASE_URL=live_server.url, DISPATCH="inline")
    jobs_ran("sweep", "poll", "balance")
    return gateway


class _Answer(BaseHTTPRequestHandler):
    status = 200
    body = b"OK"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[Callable[[int], str]]:
    """Start a server that is not this site, answering ``status`` to everything; its origin."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int) -> str:
        handler = type("Answer", (_Answer,), {"status": status})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_good_setup_passes(good_setup: Simulator) -> None:
    status, findings = doctor()
    assert status == 0, findings
    assert statuses(findings, "account") == {"PASS"}
    assert "10,000 points" in findings["account"][0]["summary"]
    assert statuses(findings, "callbacks") == {"PASS"}
    assert statuses(findings, "dispatch") == {"PASS"}
    assert statuses(findings, "job sweep") == {"PASS"}
    assert statuses(findings, "database") == {"PASS"}
    # Nothing sent, the probe cleaned up after itself.
    assert [r["endpoint"] for r in good_setup.requests] == ["query_point.asp"]
    assert not CallbackProbe.objects.exists()


def test_the_text_report_says_ready(good_setup: Simulator) -> None:
    out = StringIO()
    call_command("smsgo_doctor", stdout=out)
    assert "PASS  callbacks" in out.getvalue()
    assert out.getvalue().rstrip().endswith("Ready to send.")


def test_a_wrong_password_fails_with_the_fix(
    good_setup: Simulator, configure: Callable[..., None]
) -> None:
    configure(PASSWORD="not-the-password")
    status, findings = doctor()
    assert status == 1
    (account,) = findings["account"]
    assert account["status"] == "FAIL"
    assert "refused the account 'tester'" in account["summary"]
    assert "SMSGO['PASSWORD']" in account["fix"]
    assert "not-the-password" not in json.dumps(findings)


@pytest.mark.parametrize("answer", [200, 404])
def test_a_callback_url_that_reaches_another_server_fails(
    good_setup: Simulator,
    configure: Callable[..., None],
    other_server: Callable[[int], str],
    answer: int,
) -> None:
    configure(CALLBACK_BASE_URL=other_server(answer))
    status, findings = doctor()
    assert status == 1
    (callbacks,) = findings["callbacks"]
    assert callbacks["status"] == "FAIL"
    assert "does not reach this site" in callbacks["summary"]
    assert "Point CALLBACK_BASE_URL at this site" in callbacks["fix"]


def test_a_callback_url_where_nothing_listens_fails(
    good_setup: Simulator, configure: Callable[..., None]
) -> None:
    configure(CALLBACK_BASE_URL=f"http://127.0.0.1:{free_port()}")
    status, findings = doctor()
    assert status == 1
    assert "nothing answered" in findings["callbacks"][0]["summary"]


def test_no_periodic_jobs_fail(good_setup: Simulator) -> None:
    JobRun.objects.all().delete()
    status, findings = doctor()
    assert status == 1
    (sweep,) = findings["job sweep"]
    assert sweep["status"] == "FAIL"
    assert "never ran" in sweep["summary"]
    assert "smsgo_jobs" in sweep["fix"]


def test_periodic_jobs_that_stopped_long_ago_fail(good_setup: Simulator) -> None:
    jobs_ran("sweep", "poll", ago=3600)
    status, findings = doctor()
    assert status == 1
    assert statuses(findings, "job sweep") == {"FAIL"}
    assert statuses(findings, "job poll") == {"FAIL"}


def test_an_http_gateway_url_off_this_machine_fails(
    good_setup: Simulator, configure: Callable[..., None]
) -> None:
    configure(BACKUP_API_URL="http://www2.smsgo.com.tw/sms_gw/")
    status, findings = doctor()
    assert status == 1
    assert statuses(findings, "settings") == {"FAIL"}
    https = [f for f in findings["https"] if "BACKUP_API_URL" in f["summary"]]
    assert [f["status"] for f in https] == ["FAIL"]


def test_an_http_gateway_on_this_machine_only_warns(good_setup: Simulator) -> None:
    status, findings = doctor()
    assert status == 0
    https = [f for f in findings["https"] if "API_URL" in f["summary"]]
    assert [f["status"] for f in https] == ["WARN"]


def test_celery_dispatch_with_a_broker_nobody_listens_on_fails(
    good_setup: Simulator, configure: Callable[..., None], settings: Any
) -> None:
    from celery import current_app

    configure(DISPATCH="celery")
    saved = current_app.conf.broker_url, current_app.conf.broker_write_url
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    current_app.conf.broker_url = current_app.conf.broker_write_url = nobody
    try:
        status, findings = doctor()
    finally:
        current_app.conf.broker_url, current_app.conf.broker_write_url = saved
    assert status == 1
    (dispatch,) = findings["dispatch"]
    assert dispatch["status"] == "FAIL"
    assert "cannot be reached" in dispatch["summary"]


@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL"), reason="needs a real broker (CELERY_BROKER_URL)"
)
def test_no_worker_fails(good_setup: Simulator, configure: Callable[..., None]) -> None:
    # A queue of its own: no worker of another test consumes it.
    configure(DISPATCH="celery", QUEUE=f"sms-doctor-{free_port()}")
    assert dispatching.mode() == "celery"
    status, findings = doctor()
    assert status == 1
    assert statuses(findings, "dispatch") == {"PASS"}  # the broker answers
    (workers,) = findings["workers"]
    assert workers["status"] == "FAIL"
    assert "worker" in workers["fix"]


@pytest.mark.worker
@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL"), reason="needs a real broker (CELERY_BROKER_URL)"
)
def test_a_live_worker_on_the_dispatch_queue_passes(
    good_setup: Simulator, configure: Callable[..., None]
) -> None:
    import subprocess

    from tests.example.project import wait_until
    from tests.workers import worker_command

    queue = f"sms-doctor-{free_port()}"
    configure(DISPATCH="celery", QUEUE=queue)
    worker = subprocess.Popen(
        worker_command(f"doctor-{queue}", queue=queue),
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        found: dict[str, list[dict[str, str]]] = {}

        def worker_seen() -> bool:
            nonlocal found
            found = doctor()[1]
            return statuses(found, "workers") == {"PASS"}

        wait_until(worker_seen, "the doctor sees the worker", timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert queue in found["workers"][0]["summary"]

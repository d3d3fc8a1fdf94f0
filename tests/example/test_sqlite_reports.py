"""No delivery report lost on Django's default SQLite under ``runserver``.

A fresh ``startproject`` keeps its default database settings (SQLite, no
options). 200 recipients are sent through the simulator; then 200 Phase-Two
reports arrive on 8 concurrent keep-alive connections, as a busy gateway
sends them. Every report must be acknowledged on its first attempt — a 503
would make the gateway send it again later, and after its retries a report
is lost — and every recipient must end ``delivered``.

The figures (acknowledged, 503s, retries the view made within the request)
are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_smsgo.simulator.instance import Simulator
from tests.example.project import Project, free_port, wait_until

REPORTS = 200
CONNECTIONS = 8
ACK_START = "magicid=tccrd_sms_gateway_rpack\n"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    made = Project(tmp_path)
    try:
        yield made
    finally:
        made.stop_all()


def report_paths(project: Project) -> list[str]:
    """The report URL path and query of each recipient, as the gateway would call it."""
    return project.shell_json(
        "import json\n"
        "from urllib.parse import urlencode\n"
        "from django.urls import reverse\n"
        "from django_smsgo.models import Recipient\n"
        "from django_smsgo.services.callback_urls import make_token\n"
        "paths = []\n"
        "for r in Recipient.objects.select_related('batch').order_by('pk'):\n"
        "    path = reverse('smsgo:report', kwargs={'batch_id': r.batch_id,\n"
        "        'token': make_token('report', r.batch_id)})\n"
        "    query = urlencode({'msgid': r.batch.msgid, 'dstaddr': r.phone,\n"
        "        'statuscode': '0', 'statusstr': 'DELIVRD'})\n"
        "    paths.append(path + '?' + query)\n"
        "print(json.dumps(paths))\n"
    )


def deliver(port: int, paths: list[str]) -> Counter[str]:
    """GET every path on ``CONNECTIONS`` keep-alive connections at once; count the answers."""
    answers: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(share: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for path in share:
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read().decode()
            except (http.client.HTTPException, OSError):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                outcome = "connection error"
            else:
                if response.status == 200 and body.startswith(ACK_START):
                    outcome = "acknowledged"
                else:
                    outcome = f"HTTP {response.status}"
            with lock:
                answers[outcome] += 1
        connection.close()

    threads = [
        threading.Thread(target=worker, args=(paths[i::CONNECTIONS],)) for i in range(CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_200_concurrent_reports_on_default_sqlite_are_all_acknowledged_first_time(
    project: Project, smsgo_simulator: Simulator
) -> None:
    web_port = free_port()
    project.create(
        {
            "USERNAME": "tester",
            "PASSWORD": "s3cret-Pa55word",
            "API_URL": smsgo_simulator.base_url,
            "CALLBACK_TOKEN": "a-long-random-callback-token-0123456789",
            "DISPATCH": "inline",
        }
    )
    project.manage("migrate")
    numbers = [f"09{n:08d}" for n in range(12_000_000, 12_000_000 + REPORTS)]
    project.shell(f"from django_smsgo import send_sms; send_sms({numbers!r}, 'Hello')")
    assert len(smsgo_simulator.messages) == REPORTS // 50
    paths = report_paths(project)
    assert len(paths) == REPORTS

    project.runserver(web_port)
    answers = deliver(web_port, paths)

    log = project.log(f"runserver-{web_port}.log")
    retries = log.count("database is locked; retry")
    print(
        f"\n{REPORTS} reports on {CONNECTIONS} connections, default SQLite settings: "
        f"{dict(answers)}; retries within the request: {retries}"
    )
    assert answers == Counter({"acknowledged": REPORTS}), log[-3000:]
    statuses = project.shell_json(
        "import json; from django_smsgo.models import Recipient\n"
        "print(json.dumps(Recipient.objects.status_counts()))"
    )
    assert statuses == {"delivered": REPORTS}


def test_a_report_that_meets_a_held_lock_is_retried_within_the_request(
    project: Project, smsgo_simulator: Simulator
) -> None:
    import sqlite3

    web_port = free_port()
    # A busy timeout far shorter than another writer holds the lock.
    project.create(
        {
            "USERNAME": "tester",
            "PASSWORD": "s3cret-Pa55word",
            "API_URL": smsgo_simulator.base_url,
            "CALLBACK_TOKEN": "a-long-random-callback-token-0123456789",
            "DISPATCH": "inline",
        },
        extra_settings='DATABASES["default"]["OPTIONS"] = {"timeout": 0.05}\n',
    )
    project.manage("migrate")
    project.shell("from django_smsgo import send_sms; send_sms('0912345678', 'Hello')")
    (path,) = report_paths(project)
    project.runserver(web_port)

    holder = sqlite3.connect(
        project.dir / "db.sqlite3", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long writer holds it
    log_name = f"runserver-{web_port}.log"

    def release_once_refused() -> None:
        # The writer finishes only after the view met the lock and is retrying.
        wait_until(lambda: "retry 1 of 4" in project.log(log_name), "the first retry")
        holder.execute("COMMIT")

    releaser = threading.Thread(target=release_once_refused)
    releaser.start()
    answers = deliver(web_port, [path])
    releaser.join()
    holder.close()

    log = project.log(f"runserver-{web_port}.log")
    assert answers == Counter({"acknowledged": 1}), log[-2000:]
    assert "database is locked; retry 1 of 4" in log

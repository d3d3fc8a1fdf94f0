"""Delivery reports under load and while the database is away, through gunicorn on PostgreSQL."""

from __future__ import annotations

import http.client
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from django_smsgo import send_sms
from django_smsgo.models import Batch, DeliveryReport, Message, Recipient
from django_smsgo.services.callback_urls import report_url
from django_smsgo.simulator.instance import Simulator
from tests.reliability.conftest import wait_until
from tests.reliability.test_workers import phones

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

ACK = "magicid=tccrd_sms_gateway_rpack\nmsgid={msgid}\n"

#: The final state a phone's report carries (by its last digit), and what it means.
OUTCOMES = {7: ("UNDELIV", "failed"), 8: ("ACCEPTD", "failed")}
DEFAULT_OUTCOME = ("DELIVRD", "delivered")


@dataclass(frozen=True)
class Report:
    recipient_id: int
    path: str
    msgid: str
    final: bool


def seed_submitted(count: int, per_batch: int = 50) -> dict[int, tuple[str, list[Report]]]:
    """Submitted recipients and their reports: {id: (expected status, [final, non-final])}."""
    now = timezone.now()
    numbers = phones(count, first=40_000_000)
    made: dict[int, tuple[str, list[Report]]] = {}
    for start in range(0, count, 500):
        message = Message.objects.create(
            body=f"storm {start}",
            body_hash=f"storm-{start}",
            encoding="ASCII",
            status=Message.Status.SUBMITTED,
            recipient_count=min(500, count - start),
            submitted_at=now,
        )
        for offset in range(start, min(start + 500, count), per_batch):
            msgid = str(2_611_000_000_000_000 + offset)
            batch = Batch.objects.create(
                message=message, state=Batch.State.SUBMITTED, msgid=msgid, submitted_at=now
            )
            created = Recipient.objects.bulk_create(
                Recipient(
                    message=message,
                    phone=phone,
                    batch=batch,
                    status=Recipient.Status.SUBMITTED,
                    submitted_at=now,
                )
                for phone in numbers[offset : offset + per_batch]
            )
            base = urlsplit(report_url(batch) or "").path
            for recipient in created:
                statusstr, expected = OUTCOMES.get(int(recipient.phone[-1]), DEFAULT_OUTCOME)

                def path(
                    state: str, phone: str = recipient.phone, msgid: str = msgid, base: str = base
                ) -> str:
                    query = {
                        "msgid": msgid,
                        "statuscode": "0",
                        "statusstr": state,
                        "dstaddr": phone,
                    }
                    return f"{base}?{urlencode(query)}"

                made[recipient.pk] = (
                    expected,
                    [
                        Report(recipient.pk, path(statusstr), msgid, final=True),
                        Report(recipient.pk, path("ENROUTE"), msgid, final=False),
                    ],
                )
    return made


class Storm:
    """Concurrent gateway-like clients over keep-alive connections; counts every answer."""

    def __init__(self, server: str, clients: int, max_seconds: float) -> None:
        parts = urlsplit(server)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.work: queue.SimpleQueue[Report | None] = queue.SimpleQueue()
        self.clients = clients
        self.deadline = time.monotonic() + max_seconds
        self.lock = threading.Lock()
        self.counts = {"sent": 0, "acknowledged": 0, "server_errors": 0, "other": 0}
        self.late: dict[int, Report] = {}  # sent only after the final one was acknowledged
        self.outstanding = 0

    def put(self, report: Report) -> None:
        with self.lock:
            self.outstanding += 1
        self.work.put(report)

    def run(self) -> None:
        threads = [threading.Thread(target=self.client) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def client(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        while time.monotonic() < self.deadline:
            try:
                report = self.work.get(timeout=0.2)
            except queue.Empty:
                with self.lock:
                    if self.outstanding == 0:
                        break
                continue
            assert report is not None
            status, body = self.send(conn, report)
            if status is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                status, body = self.send(conn, report)
            acknowledged = status == 200 and body == ACK.format(msgid=report.msgid)
            with self.lock:
                self.counts["sent"] += 1
                self.counts["acknowledged"] += acknowledged
                self.counts["server_errors"] += status is not None and status >= 500
                self.counts["other"] += not acknowledged
                follow = self.late.pop(report.recipient_id, None) if report.final else None
                if follow is not None:
                    self.outstanding += 1
                self.outstanding -= 1
            if follow is not None:
                self.work.put(follow)
        conn.close()

    @staticmethod
    def send(conn: http.client.HTTPConnection, report: Report) -> tuple[int | None, str]:
        try:
            conn.request("GET", report.path)
            answer = conn.getresponse()
            return answer.status, answer.read().decode()
        except (OSError, http.client.HTTPException):
            conn.close()
            return None, ""


def test_callback_storm(callback_server: str, settings: Any, figures: Callable[..., None]) -> None:
    settings.SMSGO = {**settings.SMSGO, "CALLBACK_BASE_URL": callback_server}
    rng = random.Random(9)
    total = 20_000
    duplicates, out_of_order = total // 4, total // 10  # 25 % and 10 % of the reports
    made = seed_submitted(total - duplicates - out_of_order)
    finals = [reports[0] for _, reports in made.values()]
    stream = finals + [rng.choice(finals) for _ in range(duplicates)]
    rng.shuffle(stream)

    storm = Storm(callback_server, clients=8, max_seconds=400)
    # An earlier, non-final state arriving after the final one (the gateway's
    # retries and queues do that): each goes out once its final is acknowledged.
    for recipient_id in rng.sample(sorted(made), out_of_order):
        storm.late[recipient_id] = made[recipient_id][1][1]
    for report in stream:
        storm.put(report)
    started = time.perf_counter()
    storm.run()
    seconds = time.perf_counter() - started

    expected = {pk: status for pk, (status, _) in made.items()}
    actual = dict(Recipient.objects.values_list("pk", "status"))
    wrong = sum(1 for pk, status in expected.items() if actual.get(pk) != status)
    applied = DeliveryReport.objects.filter(outcome=DeliveryReport.Outcome.APPLIED).count()
    counts = storm.counts
    figures(
        "callback storm (25 % duplicates, 10 % out of order, 8 clients)",
        sent=counts["sent"],
        acknowledged=counts["acknowledged"],
        server_errors=counts["server_errors"],
        duplicates=duplicates,
        out_of_order=out_of_order,
        applied_changes=applied,
        wrong_final_state=wrong,
        lost=len(made) - sum(1 for pk in expected if actual.get(pk) == expected[pk]),
        seconds=round(seconds, 1),
    )
    assert counts["sent"] == total, "the storm did not finish within its time bound"
    assert counts["server_errors"] == 0
    assert counts["acknowledged"] == total
    assert wrong == 0
    assert applied == len(made)  # one change per recipient, whatever came twice or late


def block_database(name: str, blocked: bool) -> None:
    """Refuse (or allow again) new connections to the test database; drop the others but ours."""
    import psycopg

    settings_dict = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
    with psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        allow = "false" if blocked else "true"
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {allow}')
        if blocked:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s",
                [name, own_pid],
            )


def test_report_while_the_database_is_down_is_not_acknowledged_then_stored(
    callback_server: str,
    smsgo_simulator: Simulator,
    settings: Any,
    eager: None,
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    settings.SMSGO = {
        **settings.SMSGO,
        "API_URL": gateway.base_url,
        "BACKUP_API_URL": None,
        "CALLBACK_BASE_URL": callback_server,
    }
    gateway.state.config.delivery_delay = 3600  # nothing delivered until we say so
    gateway.state.config.callback_retry_delay = 1.0
    numbers = phones(3, first=41_000_000)
    message = send_sms(numbers, "reliability: database away", encoding="ASCII")
    assert Recipient.objects.filter(message=message, status=Recipient.Status.SUBMITTED).count() == 3

    name = connection.settings_dict["NAME"]
    block_database(name, True)
    try:
        gateway.advance(3600)  # the reports go out now, to a project without its database
        refused = wait_until(
            lambda: len(gateway.callbacks) >= len(numbers), timeout=30, interval=0.02
        )
    finally:
        block_database(name, False)
    assert refused
    first_attempts = list(gateway.callbacks)
    assert gateway.wait_for_callbacks(timeout=60)

    attempts = gateway.callbacks
    acknowledged = [a for a in attempts if a.get("acknowledged")]
    delivered = Recipient.objects.filter(message=message, status=Recipient.Status.DELIVERED)
    figures(
        "delivery reports while the database is unavailable",
        sent=len(numbers),
        first_attempts_acknowledged=sum(1 for a in first_attempts if a.get("acknowledged")),
        first_answers=sorted({str(a.get("http_status")) for a in first_attempts}),
        attempts=len(attempts),
        acknowledged=len(acknowledged),
        stored=delivered.count(),
        duplicates=DeliveryReport.objects.filter(outcome=DeliveryReport.Outcome.APPLIED).count()
        - delivered.count(),
        lost=len(numbers) - delivered.count(),
    )
    assert not any(a.get("acknowledged") for a in first_attempts)
    assert all(a.get("http_status") != 200 for a in first_attempts)
    assert len(acknowledged) == len(numbers)
    assert delivered.count() == len(numbers)

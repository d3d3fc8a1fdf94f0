"""The same report arriving at the same instant on several connections records one change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, connections

from django_smsgo.models import DeliveryReport, Recipient
from django_smsgo.services.reports import record_observation

from .conftest import make_batch

THREADS = 8

pytestmark = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite has no row locks: concurrent writers fail with 'database is locked' "
    "(answered 503, so the gateway retries); run with DATABASE_URL=postgres://…",
)


@pytest.mark.postgres
@pytest.mark.parametrize("statusstr", ["DELIVRD", "ENROUTE"])
def test_identical_reports_from_threads_make_one_change(
    transactional_db: None,
    signal_log: Callable[[str], list[dict[str, Any]]],
    statusstr: str,
) -> None:
    batch = make_batch(["0912345678"])
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def arrive() -> None:
        try:
            start.wait()
            report = record_observation(
                msgid=batch.msgid,
                phone="0912345678",
                statuscode=0,
                statusstr=statusstr,
                source=DeliveryReport.Source.CALLBACK,
                raw={"statusstr": statusstr},
                batch_id=batch.pk,
            )
            with lock:
                outcomes.append(report.outcome)
        except (OperationalError, threading.BrokenBarrierError) as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=arrive) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * (THREADS - 1)
    assert DeliveryReport.objects.count() == THREADS
    assert Recipient.objects.get().gateway_status == statusstr
    assert len(signal_log("report")) == 1

"""Concurrent callers: the duplicate guard and the idempotency key hold under a race.

Real threads, each with its own database connection (as concurrent web
requests are), on PostgreSQL (``DATABASE_URL``) and on SQLite in a file
(``SQLITE_TEST_FILE``: ``test_races_on_sqlite.py`` runs this module so, since
an in-memory SQLite database cannot make connections wait).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from django_smsgo.models import Message, Recipient
from django_smsgo.services.errors import DuplicateMessageError
from django_smsgo.services.sending import send_sms
from django_smsgo.simulator.instance import Simulator
from tests.core.conftest import send_requests

IN_MEMORY = connection.vendor == "sqlite" and not os.environ.get("SQLITE_TEST_FILE")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        IN_MEMORY, reason="runs on a SQLite file: tests/core/test_races_on_sqlite.py"
    ),
]

CALLERS = 20 if connection.vendor == "sqlite" else 50


@pytest.fixture(autouse=True)
def _dispatch_in_process(configure: Any) -> None:
    # Concurrent web requests in a project without a broker; and Celery's eager
    # mode is not thread-safe (a global "inside a task" flag).
    configure(DISPATCH="inline")


def race(callers: int, call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` in ``callers`` threads released at the same instant; their results/errors."""
    start = threading.Barrier(callers)
    results: list[Any] = [None] * callers

    def run(index: int) -> None:
        from django.db import connections

        start.wait()
        try:
            results[index] = call()
        except Exception as exc:  # collected, asserted by the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_the_same_text_to_the_same_number_at_once_is_sent_once(gateway: Simulator) -> None:
    results = race(CALLERS, lambda: send_sms("0912000911", "Your parcel is here"))
    stored = [r for r in results if isinstance(r, Message)]
    refused = [r for r in results if isinstance(r, DuplicateMessageError)]
    assert len(stored) == 1, results
    assert len(refused) == CALLERS - 1, [r for r in results if not isinstance(r, Message)]
    assert Message.objects.count() == 1
    assert Recipient.objects.count() == 1
    assert len(send_requests(gateway)) == 1
    assert gateway.duplicates()["extra_sends"] == 0


def test_one_idempotency_key_at_once_gives_every_caller_the_same_message(
    gateway: Simulator,
) -> None:
    results = race(
        CALLERS, lambda: send_sms("0912000912", "Order 77 shipped", idempotency_key="order-77")
    )
    assert all(isinstance(r, Message) for r in results), results
    assert {r.pk for r in results} == {Message.objects.get().pk}
    assert len(send_requests(gateway)) == 1


def test_different_texts_at_once_are_all_sent(gateway: Simulator) -> None:
    counter = iter(range(CALLERS))
    lock = threading.Lock()

    def send() -> Message:
        with lock:
            n = next(counter)
        return send_sms("0912000913", f"Code {n:04d}")

    results = race(CALLERS, send)
    assert all(isinstance(r, Message) for r in results), results
    assert len(send_requests(gateway)) == CALLERS

"""With several requests in flight, a slow record does not hold up the next requests.

Accepted answers are recorded on a database connection of dispatch's own
(``services/record_behind.py``) while the run claims and sends the next
batches. Here the first record is held (a ``message_submitted`` receiver
waits, as a slow receiver or a locked row would make it) and the run is
watched from the simulator's side.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections

from django_smsgo.models import Message, Recipient
from django_smsgo.services import dispatch
from django_smsgo.signals import message_submitted
from django_smsgo.simulator.instance import Simulator
from tests.core.conftest import send_requests
from tests.core.test_claim_ahead import queued

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="claims are held open only where rows lock"
    ),
]


class FirstRecordHeld:
    """Holds the first ``message_submitted`` receiver call until the block ends."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            self.release.wait(20)

    def __enter__(self) -> FirstRecordHeld:
        message_submitted.connect(self, dispatch_uid="first-record-held")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        message_submitted.disconnect(dispatch_uid="first-record-held")


def dispatched_in_a_thread(message_id: int, results: list[Any]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(dispatch.dispatch_message(message_id))
        finally:
            connections["default"].close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


def test_while_the_first_record_waits_the_next_batches_are_sent(
    gateway: Simulator, configure: Any
) -> None:
    configure(DISPATCH_CONNECTIONS=2)
    message = queued(500)  # ten batches
    results: list[Any] = []
    with FirstRecordHeld() as held:
        running = dispatched_in_a_thread(message.pk, results)
        all_sent_meanwhile = wait_for(lambda: len(send_requests(gateway)) == 10, 10)
        assert held.calls == 1  # the first record is still waiting
    running.join(timeout=30)
    assert all_sent_meanwhile
    assert results[0].submitted == 10
    assert Recipient.objects.filter(message=message, status="submitted").count() == 500
    assert Message.objects.get(pk=message.pk).points_charged == 500  # each recorded once
    assert len(send_requests(gateway)) == 10
    assert gateway.duplicates()["extra_sends"] == 0


def test_one_connection_records_each_answer_itself(gateway: Simulator, configure: Any) -> None:
    configure(DISPATCH_CONNECTIONS=1)
    message = queued(500)
    results: list[Any] = []
    with FirstRecordHeld() as held:
        running = dispatched_in_a_thread(message.pk, results)
        # The run waits for its own record: no request after the next one.
        assert not wait_for(lambda: len(send_requests(gateway)) > 2, 1)
        assert held.calls == 1
    running.join(timeout=30)
    assert results[0].submitted == 10
    assert len(send_requests(gateway)) == 10
    assert gateway.duplicates()["extra_sends"] == 0


def test_inside_a_transaction_the_run_records_each_answer_itself(
    gateway: Simulator, configure: Any
) -> None:
    # A recording thread could not see the claims this transaction has not committed.
    from django.db import transaction

    configure(DISPATCH_CONNECTIONS=2)
    message = queued(500)
    with transaction.atomic():
        result = dispatch.dispatch_message(message.pk)
        assert result.submitted == 10
        assert Recipient.objects.filter(message=message, status="submitted").count() == 500
    assert len(send_requests(gateway)) == 10
    assert gateway.duplicates()["extra_sends"] == 0

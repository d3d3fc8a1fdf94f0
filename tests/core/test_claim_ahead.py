"""The next batch is claimed while a request travels, and never left behind when the run stops.

Seen from a second database connection, as another worker would see it: a
batch claimed ahead is a set of locked recipient rows in a transaction not yet
committed (``SELECT … FOR UPDATE SKIP LOCKED`` passes over them), with no
batch row anyone else can see.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services import claim_ahead, dispatch
from django_smsgo.services.states import batch as batch_state
from django_smsgo.simulator.instance import Simulator
from tests.core.conftest import send_requests

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="claims are held open only where rows lock"
    ),
]


def numbers(count: int) -> list[str]:
    return [f"0912{n:06d}" for n in range(count)]


def queued(count: int) -> Message:
    from django_smsgo.services.sending import plan_send, store

    message = store(plan_send(numbers(count), "Hello"), queue=False).message
    Message.objects.filter(pk=message.pk).update(status=Message.Status.QUEUED)
    message.refresh_from_db()
    return message


#: Sessions of this database that hold a claim's turn (an advisory lock) in a
#: transaction they left open. Nothing here locks a row: a watcher that did
#: would make the claims it watches skip those rows.
OPEN_CLAIMS = """
    SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
      AND a.datname = current_database() AND a.state = 'idle in transaction'
"""


def open_claims() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OPEN_CLAIMS)
        (count,) = cursor.fetchone()
    return int(count)


class OpenClaim:
    """Watches, from a connection of its own, for a claim held open in a transaction."""

    def __init__(self) -> None:
        self.longest = 0.0  # seconds, the longest time one was seen without a break
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> OpenClaim:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        since: float | None = None
        try:
            while not self._stop.is_set():
                held, now = open_claims(), time.monotonic()
                since = (since or now) if held else None
                self.longest = max(self.longest, now - since) if since else self.longest
                time.sleep(0.005)
        finally:
            connections["default"].close()


def test_the_next_batch_is_claimed_while_the_request_travels(
    gateway: Simulator, configure: Any
) -> None:
    configure(DISPATCH_CONNECTIONS=1)
    gateway.fault("slow", endpoint="sendsms.aspx", count=1, seconds=1.0)
    message = queued(150)
    with OpenClaim() as watch:
        result = dispatch.dispatch_message(message.pk)
    assert result.submitted == 3
    # While the first request waited a second, the second batch was claimed
    # in a transaction committed only when it went out.
    assert watch.longest > 0.5
    assert len(send_requests(gateway)) == 3
    assert gateway.duplicates()["extra_sends"] == 0


def test_a_batch_claimed_ahead_goes_back_when_the_run_stops(
    gateway: Simulator, configure: Any
) -> None:
    configure(DISPATCH_CONNECTIONS=1)
    gateway.fault("drop", endpoint="sendsms.aspx", count=1)  # perhaps sent: the run stops
    message = queued(150)
    result = dispatch.dispatch_message(message.pk)
    assert result.uncertain == 1
    assert result.retry
    # Only the batch whose request left exists; the one claimed ahead was
    # rolled back, its recipients are as they were.
    assert list(Batch.objects.filter(message=message).values_list("state", flat=True)) == [
        Batch.State.UNCERTAIN
    ]
    rest = Recipient.objects.filter(message=message, batch__isnull=True)
    assert rest.filter(status=Recipient.Status.QUEUED).count() == 100
    # The next run sends them, each once.
    dispatch.dispatch_message(message.pk)
    assert len(send_requests(gateway)) == 3
    assert Recipient.objects.filter(message=message, status="submitted").count() == 100
    assert gateway.duplicates()["extra_sends"] == 0


def test_the_claim_ahead_commits_only_when_taken() -> None:
    message = queued(60)
    ahead = claim_ahead.ClaimAhead()

    def claim() -> batch_state.Claim | None:
        return batch_state.claim(message, lease=timedelta(minutes=5), now=timezone.now())

    held = ahead.claim(claim)
    assert held is not None
    assert ahead.waiting
    with pytest.raises(RuntimeError):
        ahead.claim(claim)
    ahead.give_back()
    assert not Batch.objects.exists()
    assert ahead.claim(claim) is not None
    taken = ahead.take()
    assert taken is not None
    assert not ahead.waiting
    assert Batch.objects.filter(pk=taken.batch.pk, state=Batch.State.CLAIMED).exists()
    assert Recipient.objects.filter(batch=taken.batch.pk).count() == 50


def test_a_record_whose_prepared_statement_went_missing_is_sent_again_plain(
    gateway: Simulator, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django_smsgo.services.states import batch_statements, prepared

    configure(DISPATCH_CONNECTIONS=1)
    message = queued(100)
    lost: list[Any] = []
    forgotten: list[Any] = []
    real_prepare, real_forget = prepared.prepare_in_session, prepared.forget

    def lose_it_once(conn: Any, cursor: Any, statement: Any) -> None:
        real_prepare(conn, cursor, statement)
        if statement is batch_statements._submit() and not lost:
            lost.append(statement)
            cursor.execute("DEALLOCATE ALL")  # what a pooler resetting the session does

    def forget(conn: Any, statement: Any) -> None:
        forgotten.append(statement)
        real_forget(conn, statement)

    monkeypatch.setattr(prepared, "prepare_in_session", lose_it_once)
    monkeypatch.setattr(prepared, "forget", forget)
    result = dispatch.dispatch_message(message.pk)
    assert lost
    assert forgotten == lost  # the record was sent again, plain
    assert result.submitted == 2
    assert Recipient.objects.filter(message=message, status="submitted").count() == 100
    assert Message.objects.get(pk=message.pk).points_charged == 100  # recorded once each
    assert len(send_requests(gateway)) == 2


def test_a_claim_ahead_checks_its_foreign_keys_before_its_commit() -> None:
    """With one connection, the checks of a claim held open run while the request before travels.

    Django defers foreign-key checks to the commit, and a claim ahead commits
    between an answer and the next request: its 50 checks would sit there.
    A claim that breaks a foreign key fails when it is made, not when taken.
    """
    from django.db import IntegrityError

    message = queued(1)
    recipient = message.recipients.get()
    ahead = claim_ahead.ClaimAhead(check_at_once=True)

    def make() -> Any:
        Recipient.objects.filter(pk=recipient.pk).update(batch_id=2**40)  # no such batch
        return object()

    with pytest.raises(IntegrityError):
        ahead.claim(make)
    assert not ahead.waiting
    recipient.refresh_from_db()
    assert recipient.batch_id is None

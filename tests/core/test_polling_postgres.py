"""Polling's one-statement write on PostgreSQL: the general path's reports and statuses.

The general path (:func:`~django_smsgo.services.states.recipient.apply_observations`)
is SQLite's and every other database's; here both paths write the same
answers into two identical sets of recipients and what they store is
compared. Run with ``DATABASE_URL=postgres://…``; on SQLite polling takes the
general path, which ``test_polling.py`` covers.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient
from django_smsgo.services.polling import poll_delivery_status
from django_smsgo.services.sending import send_sms
from django_smsgo.services.states import observation_statement
from django_smsgo.services.states import recipient as recipient_state
from django_smsgo.services.states.recipient import Observation
from django_smsgo.simulator.instance import Simulator
from django_smsgo.testing.factories import BatchFactory, MessageFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the one-statement path is PostgreSQL's; run with DATABASE_URL=postgres://…",
    ),
]

POLL = DeliveryReport.Source.POLL
R = Recipient.Status

STATUSES = [R.QUEUED, R.SUBMITTED, R.UNCERTAIN, R.DELIVERED, R.FAILED, R.CANCELLED]
KNOWN = ["", "ENROUTE", "DELIVRD", "UNDELIV", "Weird State", "délivré", " ENROUTE"]
REPORTED = ["DELIVRD", "delivrd", "UNDELIV", "ACCEPTD", "ENROUTE", "enroute", "WEIRD STATE"]
GRID = list(itertools.product(STATUSES, KNOWN, REPORTED))
MSGID = "100101121234567"


def recipients_in(grid: list[tuple[str, str, str]]) -> list[Recipient]:
    """A message with one recipient per grid entry, in the entry's status and known state."""
    message = MessageFactory(status=Message.Status.SUBMITTED, recipient_count=len(grid))
    # One msgid for every set: the gateway's answers are then the same too.
    batch = BatchFactory(message=message, state=Batch.State.SUBMITTED, msgid=MSGID)
    return Recipient.objects.bulk_create(
        Recipient(
            message=message,
            phone=f"0912{index:06d}",
            batch=batch,
            status=status,
            gateway_status=known,
            submitted_at=None if status == R.QUEUED else timezone.now(),
        )
        for index, (status, known, _) in enumerate(grid)
    )


def observations(rows: list[Recipient], reported: list[str]) -> list[Observation]:
    msgid = MSGID
    return [
        Observation(
            recipient_id=row.pk,
            batch_id=row.batch_id,  # type: ignore[arg-type]
            msgid=msgid,
            phone=row.phone,
            statuscode=0,
            statusstr=statusstr,
            raw={"statusstr": statusstr, "dstaddr": row.phone, "msgid": msgid},
        )
        for row, statusstr in zip(rows, reported, strict=True)
    ]


def stored(rows: list[Recipient], now: Any) -> list[tuple[Any, ...]]:
    """What each recipient became, and the reports logged for it (ids left out)."""
    by_id = Recipient.objects.in_bulk([row.pk for row in rows])
    found = []
    for row in rows:
        recipient = by_id[row.pk]
        reports = [
            (
                r.batch_id == row.batch_id,
                r.msgid,
                r.phone,
                r.statuscode,
                r.statusstr,
                r.source,
                r.outcome,
                r.raw,
            )
            for r in DeliveryReport.objects.filter(recipient=row).order_by("pk")
        ]
        found.append(
            (
                recipient.status,
                recipient.gateway_status,
                recipient.gateway_statuscode,
                recipient.reason_code,
                recipient.reason_params,
                recipient.final_at == now if recipient.final_at else None,
                recipient.submitted_at is not None,
                recipient.updated_at == now,
                reports,
            )
        )
    return found


def write_in_one_statement(observed: list[Observation], now: Any) -> list[str]:
    """What polling does on PostgreSQL: the statement, then the general path for the rest."""
    logged, left = observation_statement.record(
        observed, alias=DEFAULT_DB_ALIAS, source=POLL, now=now
    )
    reports = recipient_state.apply_observations(left, source=POLL, now=now)
    return [e.outcome for e in logged] + [r.outcome for r in reports]


@pytest.mark.django_db
def test_the_statement_stores_what_the_general_path_stores() -> None:
    reported = [statusstr for _, _, statusstr in GRID]
    general_rows, statement_rows = recipients_in(GRID), recipients_in(GRID)
    now = timezone.now()
    general = recipient_state.apply_observations(
        observations(general_rows, reported), source=POLL, now=now
    )
    outcomes = write_in_one_statement(observations(statement_rows, reported), now)
    assert sorted(outcomes) == sorted(r.outcome for r in general)
    for entry, one, other in zip(
        GRID, stored(general_rows, now), stored(statement_rows, now), strict=True
    ):
        assert one == other, entry
    assert {DeliveryReport.Outcome(o) for o in outcomes} >= {
        "applied",
        "duplicate",
        "stale",
        "conflict",
    }


@pytest.mark.django_db
def test_only_states_sql_might_compare_otherwise_are_left_to_the_general_path() -> None:
    rows = recipients_in(GRID)
    now = timezone.now()
    reported = [statusstr for _, _, statusstr in GRID]
    logged, left = observation_statement.record(
        observations(rows, reported), alias=DEFAULT_DB_ALIAS, source=POLL, now=now
    )
    by_id = {row.pk: known for row, (_, known, _) in zip(rows, GRID, strict=True)}
    assert {by_id[o.recipient_id] for o in left} == {"délivré", " ENROUTE"}
    assert len(logged) + len(left) == len(GRID)
    assert DeliveryReport.objects.count() == len(logged)  # nothing stored for what was left


@pytest.mark.django_db
def test_a_recipient_observed_twice_or_gone_is_treated_as_the_general_path_does() -> None:
    grid = [(R.SUBMITTED, "", "ENROUTE"), (R.SUBMITTED, "", "DELIVRD"), (R.SUBMITTED, "", "-")]
    results = []
    for _ in range(2):
        rows = recipients_in(grid)
        first, second, gone = observations(rows, ["ENROUTE", "DELIVRD", "DELIVRD"])
        twice = Observation(**{**first.__dict__, "statusstr": "UNDELIV"})
        Recipient.objects.filter(pk=gone.recipient_id).delete()
        results.append((rows[:2], [first, twice, second, gone]))
    now = timezone.now()
    (general_rows, general_observed), (statement_rows, statement_observed) = results
    recipient_state.apply_observations(general_observed, source=POLL, now=now)
    write_in_one_statement(statement_observed, now)
    assert stored(general_rows, now) == stored(statement_rows, now)
    assert DeliveryReport.objects.count() == 6  # three each; none for the recipient gone


@pytest.mark.django_db(transaction=True)
def test_polling_writes_each_group_of_answers_in_one_statement(
    gateway: Simulator, configure: Any
) -> None:
    # One writer: the statement runs on this thread's connection, where it is seen.
    configure(POLL_BATCH_SIZE=20, POLL_WRITERS=1)
    message = send_sms([f"0912{n:06d}" for n in range(45)], "Hi")
    with CaptureQueriesContext(connection) as queries:
        result = poll_delivery_status(min_age=0)
    sent = [query["sql"] for query in queries.captured_queries]
    assert (result.requests, result.changed) == (3, 45)
    assert len([sql for sql in sent if sql.startswith("EXECUTE smsgo_observations_")]) == 1
    assert not [sql for sql in sent if "FOR UPDATE" in sql]  # the general path's lock
    assert set(message.recipients.values_list("status", flat=True)) == {R.DELIVERED}
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED


class HeldRow:
    """A recipient row locked from a connection of its own until the block ends."""

    def __init__(self, recipient_id: int) -> None:
        self.recipient_id = recipient_id
        self._locked = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def __enter__(self) -> HeldRow:
        self._thread.start()
        assert self._locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._thread.join(timeout=10)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                Recipient.objects.select_for_update().get(pk=self.recipient_id)
                self._locked.set()
                self._release.wait(30)
        finally:
            connections["default"].close()


@pytest.mark.django_db(transaction=True)
def test_while_one_write_waits_the_next_answers_are_written_on_another_connection(
    gateway: Simulator, configure: Any
) -> None:
    # Two writes of ten answers each (POLL_BATCH_SIZE pairs an answer); numbers
    # ending in 00 are delivered by the simulator.
    configure(POLL_BATCH_SIZE=10, POLL_WRITERS=2)
    message = send_sms([f"0912{n:04d}00" for n in range(200)], "Hi")
    first = message.recipients.order_by("pk")[0]
    second_write = message.recipients.filter(pk__gt=first.pk + 99)
    results: list[Any] = []

    def poll() -> None:
        try:
            results.append(poll_delivery_status(min_age=0))
        finally:
            connections["default"].close()

    with HeldRow(first.pk):
        polling = threading.Thread(target=poll)
        polling.start()
        deadline = time.monotonic() + 10
        while second_write.exclude(status=R.DELIVERED).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        written_while_held = not second_write.exclude(status=R.DELIVERED).exists()
        first.refresh_from_db()
        assert first.status == R.SUBMITTED  # its write still waits for the lock
    polling.join(timeout=30)
    assert written_while_held
    assert (results[0].requests, results[0].changed) == (20, 200)
    assert set(message.recipients.values_list("status", flat=True)) == {R.DELIVERED}
    assert DeliveryReport.objects.filter(recipient__message=message).count() == 200
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_writes_stay_on_the_callers_connection(
    gateway: Simulator, configure: Any
) -> None:
    # A writer thread could not see recipients this transaction has not committed.
    from django_smsgo.services.dispatch import dispatch_message
    from django_smsgo.services.sending import plan_send, store

    configure(POLL_BATCH_SIZE=10, POLL_WRITERS=2, DISPATCH_CONNECTIONS=1)
    with transaction.atomic():
        message = store(
            plan_send([f"0912{n:04d}00" for n in range(200)], "Hi"), queue=False
        ).message
        Message.objects.filter(pk=message.pk).update(status=Message.Status.QUEUED)
        dispatch_message(message.pk)  # submitted, not committed
        result = poll_delivery_status(min_age=0)
        assert (result.requests, result.changed) == (20, 200)
        assert set(message.recipients.values_list("status", flat=True)) == {R.DELIVERED}

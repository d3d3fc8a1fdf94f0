"""The one-statement report path on PostgreSQL: same results, one round trip, safe under races.

Run with ``DATABASE_URL=postgres://…``; on SQLite every report takes the
general path, which ``test_reports.py`` covers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient
from django_smsgo.services.reports import record_observation

from .conftest import make_batch

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the one-statement path is PostgreSQL's; run with DATABASE_URL=postgres://…",
    ),
]

PHONE = "0912345678"
OTHER = "0987654321"


def observe(batch: Batch | None, statusstr: str, phone: str | None = PHONE, **kw: Any) -> str:
    """Record a report; ``batch`` None names the batch by msgid only (the general path)."""
    report = record_observation(
        msgid=kw.pop("msgid", batch.msgid if batch is not None else ""),
        phone=phone,
        statuscode=0,
        statusstr=statusstr,
        source=DeliveryReport.Source.CALLBACK,
        raw={"statusstr": statusstr},
        batch_id=batch.pk if batch is not None else None,
        **kw,
    )
    return report.outcome


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0].upper() for query in queries.captured_queries]


@pytest.fixture
def warm(transactional_db: None) -> None:
    """One report first, so this connection has prepared the statements counted below."""
    batch = make_batch([PHONE], msgid="1")
    observe(batch, "ENROUTE")
    observe(batch, "DELIVRD")


# --- one round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "again", "outcome"),
    [
        (None, "DELIVRD", "applied"),
        ("DELIVRD", "DELIVRD", "duplicate"),
        ("DELIVRD", "EXPIRED", "conflict"),
        ("UNDELIV", "ENROUTE", "stale"),
        (None, "ENROUTE", "applied"),
        ("ENROUTE", "ENROUTE", "duplicate"),
    ],
)
def test_a_report_is_one_statement_while_others_are_open(
    warm: None, first: str | None, again: str, outcome: str
) -> None:
    batch = make_batch([PHONE, OTHER], msgid="200")
    if first is not None:
        observe(batch, first)
    with CaptureQueriesContext(connection) as queries:
        assert observe(batch, again) == outcome
    assert statements(queries) == ["EXECUTE"]
    assert DeliveryReport.objects.filter(batch=batch).latest("pk").outcome == outcome


def test_the_last_final_report_also_settles_the_message(warm: None) -> None:
    batch = make_batch([PHONE, OTHER], msgid="201")
    observe(batch, "DELIVRD", phone=OTHER)
    assert Message.objects.get(pk=batch.message_id).status == Message.Status.SUBMITTED
    with CaptureQueriesContext(connection) as queries:
        assert observe(batch, "UNDELIV") == "applied"
    assert statements(queries)[0] == "EXECUTE"
    assert len(queries) > 1  # the check after commit, then the settle
    assert Message.objects.get(pk=batch.message_id).status == Message.Status.COMPLETED


def test_the_first_report_on_a_connection_prepares_the_statement(transactional_db: None) -> None:
    connections.close_all()
    batch = make_batch([PHONE, OTHER], msgid="202")
    with CaptureQueriesContext(connection) as queries:
        assert observe(batch, "DELIVRD") == "applied"
    assert statements(queries) == ["PREPARE", "EXECUTE"]
    with CaptureQueriesContext(connection) as queries:
        assert observe(batch, "DELIVRD", phone=OTHER) == "applied"
    assert statements(queries)[0] == "EXECUTE"


def test_a_prepared_statement_that_went_missing_is_sent_plain_then_prepared_again(
    warm: None,
) -> None:
    batch = make_batch([PHONE, OTHER, "0911111111"], msgid="203")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler resetting the session does
    with CaptureQueriesContext(connection) as queries:
        assert observe(batch, "DELIVRD") == "applied"
    assert statements(queries) == ["EXECUTE", "WITH"]
    with CaptureQueriesContext(connection) as queries:
        assert observe(batch, "DELIVRD", phone=OTHER) == "applied"
    assert statements(queries) == ["PREPARE", "EXECUTE"]
    assert DeliveryReport.objects.filter(batch=batch).count() == 2
    assert Recipient.objects.filter(batch=batch, status="delivered").count() == 2


@pytest.mark.django_db
def test_inside_a_transaction_a_missing_statement_leaves_the_transaction_usable() -> None:
    batch = make_batch([PHONE, OTHER], msgid="204")
    observe(batch, "ENROUTE")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert observe(batch, "DELIVRD") == "applied"
    assert Recipient.objects.get(phone=PHONE).status == Recipient.Status.DELIVERED
    assert DeliveryReport.objects.count() == 2


@pytest.mark.django_db
def test_a_final_report_reads_only_its_own_messages_recipients() -> None:
    """Looking for another open recipient never goes through other messages' rows.

    An index on the status holds the open recipients of every message: a
    report reading it costs more the more is being sent elsewhere. The
    message's own are found by (message, id) whatever the planner knows.
    """
    # What a busy site holds: many settled recipients, many still open elsewhere.
    for msgid, count, status in (("208", 4000, "delivered"), ("209", 1000, "submitted")):
        other = make_batch([], msgid=msgid)
        Recipient.objects.bulk_create(
            Recipient(message_id=other.message_id, batch=other, phone=f"09{i:08d}", status=status)
            for i in range(count)
        )
    batch = make_batch([PHONE, OTHER, "0911111111"], msgid="211")
    with CaptureQueriesContext(connection) as queries:
        assert observe(batch, "DELIVRD") == "applied"
    (execute,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("EXECUTE")]
    plans = []
    with connection.cursor() as cursor:
        for analyzed in (False, True):
            if analyzed:
                cursor.execute(f"ANALYZE {Recipient._meta.db_table}")
            for _ in range(7):  # past the point where a generic plan may be chosen
                cursor.execute("EXPLAIN " + execute)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    # The look goes through the message's own open recipients, planned
    # generically or not, never through the index of every message's.
    assert all("smsgo_rcpt_open" in plan for plan in plans)
    assert not [plan for plan in plans if "smsgo_rcpt_to_poll" in plan]


def _blocks_looking_for_another_open_recipient(execute: str) -> int:
    """Buffers the statement's look for another open recipient touches, run for real.

    Run in a transaction rolled back, with the statement's generic plan and
    the table analyzed; the look is the statement's ``other…`` CTEs.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Recipient._meta.db_table}")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + execute)
        (plan,) = cursor.fetchone()[0]
        transaction.set_rollback(True)

    def blocks(node: dict[str, Any]) -> int:
        if node.get("Subplan Name", "").startswith("CTE other"):
            return int(node["Shared Hit Blocks"]) + int(node["Shared Read Blocks"])
        return sum(blocks(child) for child in node.get("Plans", []))

    return blocks(plan["Plan"])


@pytest.mark.django_db
@pytest.mark.parametrize("settled_before", [True, False])
def test_a_final_reports_cost_does_not_grow_with_its_messages_settled_recipients(
    settled_before: bool,
) -> None:
    """The look for another open recipient of the message never reads the settled ones.

    Reports mostly arrive in the order the SMS went out, so a message being
    delivered has a long run of settled recipients before its open ones (or,
    from the last report's side, after them): a look that steps over them
    costs more with every report, as much as the message is large.
    """

    def reported(settled: int) -> int:
        batch = make_batch([], msgid=f"3{settled}{int(settled_before)}")
        done = [(f"09{settled * 10 + i:08d}", "delivered") for i in range(settled)]
        # PHONE reports; OTHER, still open, is after it or before it in id order.
        if settled_before:
            rows = [*done, (PHONE, "submitted"), (OTHER, "submitted")]
        else:
            rows = [(OTHER, "submitted"), (PHONE, "submitted"), *done]
        Recipient.objects.bulk_create(
            Recipient(message_id=batch.message_id, batch=batch, phone=phone, status=status)
            for phone, status in rows
        )
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            observe(batch, "DELIVRD")
            transaction.set_rollback(True)  # still open for the measured run below
        (execute,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("EXECUTE")]
        return _blocks_looking_for_another_open_recipient(execute)

    small, large = reported(0), reported(3000)
    assert large - small <= 3, (small, large)


# --- same results as the general path ---------------------------------------------------------

GRID = [
    # (recipient status, stored gateway status, incoming statusstr)
    ("submitted", "", "DELIVRD"),
    ("submitted", "", "UNDELIV"),
    ("submitted", "", "ACCEPTD"),
    ("submitted", "", "ENROUTE"),
    ("submitted", "ENROUTE", "enroute "),
    ("submitted", "ENROUTE", "ACCEPTD"),
    ("submitted", "Weird State", "WEIRD STATE"),
    ("submitted", "délivré", "DÉLIVRÉ"),  # not ASCII: the general path decides
    ("submitted", " ENROUTE", "ENROUTE"),  # stored with a space: the general path decides
    ("queued", "", "ENROUTE"),
    ("queued", "", "EXPIRED"),
    ("delivered", "DELIVRD", "DELIVRD"),
    ("delivered", "DELIVRD", "delivrd"),
    ("delivered", "DELIVRD", "EXPIRED"),
    ("delivered", "DELIVRD", "ENROUTE"),
    ("failed", "UNDELIV", "UNDELIV"),
    ("failed", "", "DELIVRD"),
    ("cancelled", "", "DELIVRD"),
    ("cancelled", "", "ENROUTE"),
]


def _recipient_state(recipient: Recipient) -> tuple[Any, ...]:
    return (
        recipient.status,
        recipient.gateway_status,
        recipient.gateway_statuscode,
        recipient.reason_text,
        recipient.final_at is not None,
        recipient.submitted_at is not None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "known", "statusstr"), GRID)
def test_same_outcome_and_recipient_as_the_general_path(
    signal_log: Callable[[str], list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
    status: str,
    known: str,
    statusstr: str,
) -> None:
    results = []
    for msgid, by_batch in (("301", True), ("302", False)):
        batch = make_batch([PHONE], msgid=msgid)
        Recipient.objects.filter(batch=batch).update(status=status, gateway_status=known)
        with django_capture_on_commit_callbacks(execute=True):
            outcome = observe(batch if by_batch else None, statusstr, msgid=msgid)
        report = DeliveryReport.objects.get(batch=batch)
        recipient = Recipient.objects.get(batch=batch)
        message = Message.objects.get(pk=batch.message_id)
        results.append(
            (
                outcome,
                report.outcome,
                report.recipient_id == recipient.pk,
                report.statusstr,
                *_recipient_state(recipient),
                message.status,
            )
        )
    fast, general = results
    assert fast == general
    signals = signal_log("report")
    assert len(signals) == (2 if fast[0] == "applied" else 0)


@pytest.mark.django_db
def test_the_one_statement_path_is_the_one_taken_for_a_known_batch() -> None:
    batch = make_batch([PHONE], msgid="303")
    with CaptureQueriesContext(connection) as queries:
        observe(batch, "DELIVRD")
    sent = " ".join(query["sql"] for query in queries.captured_queries)
    assert "EXECUTE smsgo_final_by_phone_" in sent
    assert "FOR UPDATE" not in sent  # the general path's locking SELECT


@pytest.mark.django_db
def test_the_signal_carries_the_changed_recipient_and_the_stored_report(
    signal_log: Callable[[str], list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = make_batch([PHONE, OTHER], msgid="304")
    with django_capture_on_commit_callbacks(execute=True):
        observe(batch, "EXPIRED")
    (sent,) = signal_log("report")
    stored = DeliveryReport.objects.get()
    assert sent["report"].pk == stored.pk
    assert sent["report"].received_at == stored.received_at
    assert sent["report"].raw == {"statusstr": "EXPIRED"}
    assert sent["report"].recipient_id == sent["recipient"].pk
    assert _recipient_state(sent["recipient"]) == _recipient_state(
        Recipient.objects.get(phone=PHONE)
    )
    assert sent["recipient"].status == Recipient.Status.FAILED
    assert sent["recipient"].updated_at == Recipient.objects.get(phone=PHONE).updated_at


# --- races ------------------------------------------------------------------------------------


def _in_threads(calls: list[Callable[[], None]]) -> list[BaseException]:
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            start.wait()
            call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("recipients", [2, 3])
def test_last_reports_arriving_at_the_same_instant_complete_the_message(
    transactional_db: None, recipients: int
) -> None:
    phones = [f"09120000{i:02d}" for i in range(recipients)]
    for attempt in range(15):
        batch = make_batch(phones, msgid=str(400 + attempt))
        calls = [
            (lambda phone=phone, batch=batch: observe(batch, "DELIVRD", phone=phone) and None)
            for phone in phones
        ]
        assert _in_threads(calls) == []
        assert Message.objects.get(pk=batch.message_id).status == Message.Status.COMPLETED, attempt
        assert DeliveryReport.objects.filter(batch=batch, outcome="applied").count() == recipients


def _waits_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def test_a_report_that_waited_for_a_concurrent_one_settles_the_message(
    transactional_db: None,
) -> None:
    """The first report holds its transaction open after finishing one of two recipients.

    It found the other recipient open and free, so it does not settle, and it
    keeps that recipient share-locked: the second report, on that recipient,
    must wait for the first to commit, and then it sees the first change and
    completes the message.
    """
    batch = make_batch([PHONE, OTHER], msgid="500")
    first_done, release = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}
    second_pid: list[int] = []

    def first() -> None:
        try:
            with transaction.atomic():
                outcomes["first"] = observe(batch, "DELIVRD", phone=PHONE)
                first_done.set()
                release.wait(60)
        finally:
            first_done.set()
            connections.close_all()

    def second() -> None:
        try:
            first_done.wait(60)
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                second_pid.append(cursor.fetchone()[0])
            outcomes["second"] = observe(batch, "UNDELIV", phone=OTHER)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for call in (first, second)]
    for thread in threads:
        thread.start()
    try:
        waited = False
        for _ in range(3000):  # a bound, not a timing: the order is what is checked
            if second_pid and _waits_for_a_lock(second_pid[0]):
                waited = True
                break
            if "second" in outcomes:
                break
            threading.Event().wait(0.01)
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert waited, "the second report did not wait for the first one's lock"
    assert outcomes == {"first": "applied", "second": "applied"}
    assert Message.objects.get(pk=batch.message_id).status == Message.Status.COMPLETED

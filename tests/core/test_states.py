"""The state machines: allowed transitions only, derived statuses, one rule table for reports."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from django_smsgo.client.statuses import FINAL_STATES
from django_smsgo.models import (
    AWAITING_REPORT,
    BATCH_TRANSITIONS,
    MESSAGE_TRANSITIONS,
    RECIPIENT_TRANSITIONS,
    Batch,
    DeliveryReport,
    Message,
    Recipient,
)
from django_smsgo.services.states import InvalidTransition
from django_smsgo.services.states import recipient as recipient_state
from django_smsgo.services.states.message import TERMINAL, derive_status, transition
from django_smsgo.services.states.report_statement import outcome_case
from django_smsgo.testing.factories import MessageFactory

pytestmark = pytest.mark.django_db

S = Message.Status
R = Recipient.Status
NOW = timezone.now()


@pytest.mark.parametrize(
    ("table", "choices"),
    [
        (MESSAGE_TRANSITIONS, Message.Status),
        (BATCH_TRANSITIONS, Batch.State),
        (RECIPIENT_TRANSITIONS, Recipient.Status),
    ],
)
def test_every_status_has_a_row_and_every_target_is_a_status(table: dict, choices: type) -> None:
    assert set(table) == set(choices.values)  # type: ignore[attr-defined]
    assert set().union(*table.values()) <= set(table)


def test_terminal_message_statuses() -> None:
    assert {S.COMPLETED, S.FAILED, S.CANCELLED} == TERMINAL


def test_a_forbidden_transition_does_not_change_the_row() -> None:
    message = MessageFactory(status=S.COMPLETED)
    assert transition(message, S.QUEUED) is False
    assert message.status == S.COMPLETED
    message = MessageFactory(status=S.DRAFT)
    assert transition(message, S.SUBMITTED) is False
    assert transition(message, S.QUEUED) is True
    assert Message.objects.get(pk=message.pk).status == S.QUEUED


def _recipient(status: str) -> Recipient:
    message = Message.objects.create(body="x", body_hash="h", encoding="ASCII", status=S.SENDING)
    return Recipient.objects.create(message=message, phone="0912345678", status=status)


def test_asking_for_an_illegal_recipient_move_raises() -> None:
    row = _recipient(R.DELIVERED)
    with pytest.raises(InvalidTransition, match="delivered cannot move to queued"):
        recipient_state.move(Recipient.objects.filter(pk=row.pk), R.QUEUED, sources=[R.DELIVERED])
    with pytest.raises(InvalidTransition, match="Unknown status"):
        recipient_state.move(Recipient.objects.filter(pk=row.pk), "lost")


@pytest.mark.parametrize("final", [R.DELIVERED, R.FAILED, R.CANCELLED])
def test_a_final_recipient_is_never_moved(final: str) -> None:
    row = _recipient(final)
    for target in (R.SUBMITTED, R.UNCERTAIN, R.FAILED, R.CANCELLED, R.DELIVERED):
        assert recipient_state.move(Recipient.objects.filter(pk=row.pk), target) == 0
    row.refresh_from_db()
    assert row.status == final


@pytest.mark.parametrize(
    ("counts", "send_at", "reached", "expected"),
    [
        ({"queued": 1, "submitted": 2}, None, False, None),
        ({"submitted": 2, "uncertain": 1}, None, False, S.UNCERTAIN),
        ({"submitted": 2}, NOW + timedelta(hours=1), False, S.SCHEDULED),
        ({"submitted": 2}, None, False, S.SUBMITTED),
        ({"delivered": 2, "failed": 1}, None, True, S.COMPLETED),
        ({"failed": 2}, None, True, S.COMPLETED),
        ({"failed": 2}, None, False, S.FAILED),
        ({"failed": 1, "cancelled": 1}, None, False, S.FAILED),
        ({"cancelled": 3}, None, False, S.CANCELLED),
    ],
)
def test_derived_status(
    counts: dict[str, int], send_at: object, reached: bool, expected: str | None
) -> None:
    assert derive_status(counts, send_at=send_at, now=NOW, reached=reached) == expected  # type: ignore[arg-type]


# --- the report rules -----------------------------------------------------------------------

Outcome = DeliveryReport.Outcome
STATES = ["DELIVRD", "UNDELIV", "ACCEPTD", "ENROUTE", "SCHEDULED"]
KNOWN = ["", "DELIVRD", "UNDELIV", "ENROUTE"]


@pytest.mark.parametrize(
    ("status", "known", "state", "outcome", "becomes"),
    [
        (R.SUBMITTED, "", "DELIVRD", Outcome.APPLIED, R.DELIVERED),
        (R.QUEUED, "", "UNDELIV", Outcome.APPLIED, R.FAILED),
        (R.UNCERTAIN, "", "ACCEPTD", Outcome.APPLIED, R.FAILED),
        (R.UNCERTAIN, "", "ENROUTE", Outcome.APPLIED, R.SUBMITTED),
        (R.SUBMITTED, "ENROUTE", "ENROUTE", Outcome.DUPLICATE, None),
        (R.QUEUED, "ENROUTE", "ENROUTE", Outcome.APPLIED, R.SUBMITTED),
        (R.DELIVERED, "DELIVRD", "ENROUTE", Outcome.STALE, None),
        (R.DELIVERED, "DELIVRD", "DELIVRD", Outcome.DUPLICATE, None),
        (R.DELIVERED, "DELIVRD", "UNDELIV", Outcome.CONFLICT, None),
        (R.CANCELLED, "", "DELIVRD", Outcome.CONFLICT, None),
    ],
)
def test_report_rules(status: str, known: str, state: str, outcome: str, becomes: str) -> None:
    rule = recipient_state.decide(status, state, known)
    assert rule.outcome == outcome
    if becomes is not None:
        assert recipient_state.status_after(rule, state) == becomes


def test_every_status_and_report_meets_exactly_one_first_rule() -> None:
    for status, state, known in itertools.product(RECIPIENT_TRANSITIONS, STATES, KNOWN):
        rule = recipient_state.decide(status, state, known)
        if rule.outcome == Outcome.APPLIED:
            assert status in recipient_state.OPEN
            assert recipient_state.status_after(rule, state) in RECIPIENT_TRANSITIONS[status] | {
                status
            }


def test_the_recipient_indexes_spell_out_the_statuses_they_hold() -> None:
    """The partial indexes' statuses are spelled out (a model's Meta cannot read the table)."""
    conditions = {i.name: i.condition for i in Recipient._meta.indexes}
    assert conditions["smsgo_rcpt_open"] == Q(status__in=sorted(recipient_state.OPEN))
    assert set(AWAITING_REPORT) == {R.SUBMITTED, R.UNCERTAIN}
    assert conditions["smsgo_rcpt_to_poll"] == Q(status__in=AWAITING_REPORT)


def test_the_generated_sql_decides_as_the_rule_table() -> None:
    """The PostgreSQL statement's CASE, run on SQLite over every combination (no server needed)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (status TEXT, known TEXT)")
    rows = list(itertools.product(RECIPIENT_TRANSITIONS, KNOWN))
    db.executemany("INSERT INTO t VALUES (?, ?)", rows)
    for state in STATES:
        final = state in FINAL_STATES
        case = outcome_case(final=final, status="status", known="upper(known)", state="?")
        sql = f"SELECT status, known, {case} FROM t ORDER BY status, known"  # noqa: S608
        placeholders = case.count("?")
        for status, known, outcome in db.execute(sql, [state] * placeholders):
            assert outcome == recipient_state.decide(status, state, known).outcome, (
                status,
                known,
                state,
            )

"""Delivery reports at the service level: mapping, idempotency, order, pending, missing numbers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient
from django_smsgo.services.reports import (
    FINAL_STATES,
    apply_all_pending_reports,
    apply_pending_reports,
    record_observation,
)

from .conftest import make_batch, mark_submitted

pytestmark = pytest.mark.django_db

MSGID = "100101121234567"
PHONE = "0912345678"


def observe(statusstr: str, *, phone: str | None = PHONE, msgid: str = MSGID, **kw: Any) -> str:
    report = record_observation(
        msgid=msgid,
        phone=phone,
        statuscode=kw.pop("statuscode", 0),
        statusstr=statusstr,
        source=kw.pop("source", DeliveryReport.Source.CALLBACK),
        raw={"msgid": msgid, "statusstr": statusstr},
        **kw,
    )
    return report.outcome


def recipient(phone: str = PHONE) -> Recipient:
    return Recipient.objects.get(phone=phone)


def test_delivrd_makes_the_recipient_delivered_and_completes_the_message(
    django_capture_on_commit_callbacks: Any, signal_log: Callable[[str], list[dict[str, Any]]]
) -> None:
    batch = make_batch()
    with django_capture_on_commit_callbacks(execute=True):
        assert observe("DELIVRD", batch_id=batch.pk) == DeliveryReport.Outcome.APPLIED
    row = recipient()
    assert row.status == Recipient.Status.DELIVERED
    assert row.gateway_status == "DELIVRD"
    assert row.gateway_statuscode == 0
    assert row.final_at is not None
    assert Message.objects.get().status == Message.Status.COMPLETED
    sent = signal_log("report")
    assert len(sent) == 1
    assert sent[0]["recipient"].pk == row.pk
    assert sent[0]["report"].outcome == DeliveryReport.Outcome.APPLIED


@pytest.mark.parametrize("state", sorted(FINAL_STATES - {"DELIVRD"}))
def test_every_other_final_state_fails_the_recipient(state: str) -> None:
    make_batch()
    assert observe(state) == DeliveryReport.Outcome.APPLIED
    row = recipient()
    assert row.status == Recipient.Status.FAILED
    assert row.gateway_status == state
    assert row.reason_text


def test_acceptd_is_a_failure_with_its_explanation_kept() -> None:
    make_batch()
    observe("ACCEPTD")
    row = recipient()
    assert row.status == Recipient.Status.FAILED
    assert row.gateway_status == "ACCEPTD"
    assert "customer service" in row.reason_text


def test_unknown_status_string_is_stored_verbatim_and_non_final() -> None:
    make_batch()
    assert observe("Enroute-ish") == DeliveryReport.Outcome.APPLIED
    row = recipient()
    assert row.status == Recipient.Status.SUBMITTED
    assert row.gateway_status == "Enroute-ish"
    assert DeliveryReport.objects.get().statusstr == "Enroute-ish"
    # and a final state after it still applies
    assert observe("DELIVRD") == DeliveryReport.Outcome.APPLIED
    assert recipient().status == Recipient.Status.DELIVERED


def test_four_identical_reports_make_one_change_and_one_signal(
    django_capture_on_commit_callbacks: Any, signal_log: Callable[[str], list[dict[str, Any]]]
) -> None:
    batch = make_batch()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [observe("DELIVRD", batch_id=batch.pk) for _ in range(4)]
    assert outcomes == ["applied", "duplicate", "duplicate", "duplicate"]
    assert DeliveryReport.objects.count() == 4
    assert len(signal_log("report")) == 1


def test_non_final_after_final_is_stale() -> None:
    make_batch()
    observe("UNDELIV")
    assert observe("ENROUTE") == DeliveryReport.Outcome.STALE
    row = recipient()
    assert row.status == Recipient.Status.FAILED
    assert row.gateway_status == "UNDELIV"


def test_second_different_final_state_is_a_conflict_logged_and_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_batch()
    observe("DELIVRD")
    with caplog.at_level(logging.WARNING, logger="django_smsgo.services.reports"):
        assert observe("EXPIRED") == DeliveryReport.Outcome.CONFLICT
    assert "Conflicting final state" in caplog.text
    assert "EXPIRED after DELIVRD" in caplog.text
    assert recipient().status == Recipient.Status.DELIVERED
    assert list(DeliveryReport.objects.values_list("outcome", flat=True)) == [
        "applied",
        "conflict",
    ]


def test_reversed_order_final_first_then_non_final() -> None:
    make_batch()
    assert observe("DELIVRD") == "applied"
    assert observe("ENROUTE") == "stale"
    assert recipient().status == Recipient.Status.DELIVERED


def test_same_final_state_in_other_case_is_a_duplicate() -> None:
    make_batch()
    observe("DELIVRD")
    assert observe(" delivrd ") == DeliveryReport.Outcome.DUPLICATE


def test_report_matched_by_msgid_without_batch_id() -> None:
    make_batch(msgid="555")
    assert observe("DELIVRD", msgid="555") == "applied"
    assert DeliveryReport.objects.get().batch is not None


def test_phone_spelled_internationally_matches_the_national_recipient() -> None:
    make_batch()
    assert observe("DELIVRD", phone="+886912345678") == "applied"
    assert recipient().status == Recipient.Status.DELIVERED


def test_missing_dstaddr_settles_a_single_recipient_batch() -> None:
    batch = make_batch()
    assert observe("DELIVRD", phone=None, batch_id=batch.pk) == "applied"
    assert recipient().status == Recipient.Status.DELIVERED


def test_missing_dstaddr_with_several_recipients_is_stored_unresolved() -> None:
    batch = make_batch(["0912345678", "0987654321"])
    assert observe("DELIVRD", phone=None, batch_id=batch.pk) == "unresolved"
    assert set(Recipient.objects.values_list("status", flat=True)) == {"submitted"}
    assert DeliveryReport.objects.get().raw["statusstr"] == "DELIVRD"


def test_number_not_in_the_batch_is_unresolved() -> None:
    batch = make_batch()
    assert observe("DELIVRD", phone="0900000000", batch_id=batch.pk) == "unresolved"
    assert recipient().status == Recipient.Status.SUBMITTED


def test_msgid_contradicting_the_batch_is_unresolved() -> None:
    batch = make_batch(msgid="111")
    assert observe("DELIVRD", msgid="222", batch_id=batch.pk) == "unresolved"
    assert recipient().status == Recipient.Status.SUBMITTED


def test_report_before_msgid_is_stored_is_pending_then_applied(
    django_capture_on_commit_callbacks: Any, signal_log: Callable[[str], list[dict[str, Any]]]
) -> None:
    batch = make_batch(state=Batch.State.CLAIMED)
    with django_capture_on_commit_callbacks(execute=True):
        assert observe("DELIVRD", batch_id=batch.pk) == "pending"
    assert recipient().status == Recipient.Status.QUEUED
    assert signal_log("report") == []
    assert apply_pending_reports(batch) == 0  # still claimed: nothing to do yet

    mark_submitted(batch, MSGID)
    with django_capture_on_commit_callbacks(execute=True):
        assert apply_pending_reports(batch) == 1
    assert recipient().status == Recipient.Status.DELIVERED
    assert DeliveryReport.objects.get().outcome == "applied"
    assert len(signal_log("report")) == 1
    assert apply_pending_reports(batch) == 0  # applied once however often it is called


def test_report_for_unknown_msgid_is_pending_until_the_batch_has_it() -> None:
    assert observe("DELIVRD", msgid="999") == "pending"
    batch = make_batch(state=Batch.State.CLAIMED)
    mark_submitted(batch, "999")
    assert apply_all_pending_reports() == 1
    assert recipient().status == Recipient.Status.DELIVERED


def test_pending_reports_apply_in_arrival_order() -> None:
    batch = make_batch(state=Batch.State.CLAIMED)
    observe("ENROUTE", batch_id=batch.pk)
    observe("UNDELIV", batch_id=batch.pk)
    observe("UNDELIV", batch_id=batch.pk)
    mark_submitted(batch, MSGID)
    assert apply_pending_reports(batch) == 2
    assert list(DeliveryReport.objects.values_list("outcome", flat=True)) == [
        "applied",
        "applied",
        "duplicate",
    ]
    assert recipient().status == Recipient.Status.FAILED


def test_report_on_uncertain_batch_proves_acceptance_and_stores_the_msgid() -> None:
    batch = make_batch(state=Batch.State.UNCERTAIN, msgid="")
    assert observe("ENROUTE", msgid="777", batch_id=batch.pk) == "applied"
    batch.refresh_from_db()
    assert batch.msgid == "777"
    assert batch.state == Batch.State.SUBMITTED
    row = recipient()
    assert row.status == Recipient.Status.SUBMITTED
    assert row.submitted_at is not None


def test_final_report_on_uncertain_recipient_settles_it() -> None:
    batch = make_batch(state=Batch.State.UNCERTAIN, msgid="")
    assert observe("DELIVRD", msgid="778", batch_id=batch.pk) == "applied"
    assert recipient().status == Recipient.Status.DELIVERED


def test_unknown_source_is_refused_naming_the_value() -> None:
    with pytest.raises(ValueError, match="'carrier-pigeon'"):
        observe("DELIVRD", source="carrier-pigeon")
    assert DeliveryReport.objects.count() == 0


def test_message_stays_open_while_another_recipient_is_open(
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = make_batch(["0912345678", "0987654321"])
    with django_capture_on_commit_callbacks(execute=True):
        observe("DELIVRD", phone="0912345678", batch_id=batch.pk)
    assert Message.objects.get().status == Message.Status.SUBMITTED
    with django_capture_on_commit_callbacks(execute=True):
        observe("UNDELIV", phone="0987654321", batch_id=batch.pk)
    assert Message.objects.get().status == Message.Status.COMPLETED


def test_report_on_uncertain_message_makes_it_submitted(
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = make_batch(["0912345678", "0987654321"], state=Batch.State.UNCERTAIN, msgid="")
    Message.objects.update(status=Message.Status.UNCERTAIN)
    with django_capture_on_commit_callbacks(execute=True):
        observe("ENROUTE", phone="0912345678", msgid="780", batch_id=batch.pk)
    # One number proven accepted; the other is still uncertain, so is the message.
    assert Message.objects.get().status == Message.Status.UNCERTAIN
    with django_capture_on_commit_callbacks(execute=True):
        observe("ENROUTE", phone="0987654321", msgid="780", batch_id=batch.pk)
    assert Message.objects.get().status == Message.Status.SUBMITTED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"msgid": ""}, "msgid '' must have 1 to 32"),
        ({"msgid": "9" * 33}, "must have 1 to 32"),
        ({"phone": "0" * 21}, "longer than 20"),
    ],
)
def test_out_of_range_values_are_refused_naming_them(kwargs: dict[str, Any], message: str) -> None:
    make_batch()
    with pytest.raises(ValueError, match=message):
        observe("DELIVRD", **kwargs)
    assert DeliveryReport.objects.count() == 0

"""The testing kit's factories build rows as sending, dispatch and reports leave them."""

from __future__ import annotations

import pytest

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient, Reply
from django_smsgo.simulator.rules import outcome_for_number
from django_smsgo.testing.factories import (
    BatchFactory,
    DeliveryReportFactory,
    MessageFactory,
    RecipientFactory,
    ReplyFactory,
)

pytestmark = pytest.mark.django_db


def test_a_delivered_recipient_has_its_batch_msgid_and_report() -> None:
    recipient = RecipientFactory(status=Recipient.Status.DELIVERED)
    assert recipient.message.status == Message.Status.COMPLETED
    assert recipient.batch.message == recipient.message
    assert recipient.batch.state == Batch.State.SUBMITTED
    assert len(recipient.batch.msgid) == 15
    report = recipient.reports.get()
    assert (report.msgid, report.phone, report.statusstr) == (
        recipient.batch.msgid,
        recipient.phone,
        "DELIVRD",
    )
    assert report.outcome == DeliveryReport.Outcome.APPLIED
    assert recipient.final_at is not None
    assert recipient.submitted_at is not None


def test_a_failed_recipient_carries_its_state_as_reason() -> None:
    recipient = RecipientFactory(status=Recipient.Status.FAILED, gateway_status="ABSENT")
    assert recipient.reason_code == "final_state"
    assert recipient.reason_params == {"state": "ABSENT"}
    assert recipient.reports.get().statusstr == "ABSENT"


def test_a_queued_recipient_has_no_batch_and_an_uncertain_one_no_msgid() -> None:
    assert RecipientFactory().batch is None
    uncertain = RecipientFactory(status=Recipient.Status.UNCERTAIN)
    assert uncertain.batch.state == Batch.State.UNCERTAIN
    assert uncertain.batch.msgid == ""
    assert not uncertain.reports.exists()


def test_a_message_gets_its_recipients_in_batches_of_fifty() -> None:
    message = MessageFactory(status=Message.Status.COMPLETED, recipients=120)
    assert message.recipient_count == Recipient.objects.filter(message=message).count() == 120
    assert message.batches.count() == 3
    assert set(message.recipients.values_list("status", flat=True)) == {"delivered"}
    assert DeliveryReport.objects.filter(recipient__message=message).count() == 120
    assert message.estimated_points == message.points_charged == 120


def test_named_numbers_and_an_explicit_status() -> None:
    message = MessageFactory(
        status=Message.Status.SUBMITTED,
        recipients=["0912345678", "0912345679"],
        recipients__status=Recipient.Status.SUBMITTED,
    )
    assert list(message.recipients.values_list("phone", flat=True)) == [
        "0912345678",
        "0912345679",
    ]
    assert message.batches.get().msgid


def test_generated_numbers_are_valid_and_delivered_by_the_simulator() -> None:
    from django_smsgo.client.numbers import normalize_numbers

    phones = [r.phone for r in RecipientFactory.create_batch(20)]
    assert list(normalize_numbers(phones)) == phones
    assert {outcome_for_number(p) for p in phones} == {"DELIVRD"}


def test_a_report_alone_brings_a_recipient_in_its_state() -> None:
    report = DeliveryReportFactory(statusstr="UNDELIV")
    assert report.recipient.status == Recipient.Status.FAILED
    assert report.recipient.gateway_status == "UNDELIV"
    assert report.recipient.reports.count() == 1
    assert report.msgid == report.recipient.batch.msgid


def test_a_reply_answers_a_delivered_message_collecting_replies() -> None:
    reply = ReplyFactory(body="好")
    assert isinstance(reply, Reply)
    assert reply.message.reply is True
    assert reply.recipient.status == Recipient.Status.DELIVERED
    assert reply.msgid == reply.recipient.batch.msgid
    assert reply.from_phone == reply.recipient.phone


def test_build_touches_no_database(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        message = MessageFactory.build(recipients=3)
        BatchFactory.build()
    assert message.recipient_count == 3


def test_the_outbox_fixture_collects_sends(smsgo_outbox, django_capture_on_commit_callbacks):
    from django_smsgo import send_sms
    from django_smsgo.testing import sent_to

    with django_capture_on_commit_callbacks(execute=True):
        send_sms("0912-345-678", "Hello", kind="transactional")
    assert [sent.body for sent in smsgo_outbox] == ["Hello"]
    assert sent_to("0912345678") == ["Hello"]

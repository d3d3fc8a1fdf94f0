"""Scheduling (send_at → dlvtime) and cancelling, locally and at the gateway."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services import sweeper
from django_smsgo.services.cancelling import cancel_message
from django_smsgo.services.errors import MessageNotCancellable
from django_smsgo.services.sending import create_draft, send_sms
from django_smsgo.simulator.instance import Simulator
from tests.core.conftest import send_requests

pytestmark = pytest.mark.django_db(transaction=True)

TAIPEI = ZoneInfo("Asia/Taipei")


def numbers(count: int) -> list[str]:
    return [f"0912{n:06d}" for n in range(count)]


def cancel_requests(simulator: Simulator) -> list[dict[str, Any]]:
    return [r for r in simulator.requests if r["endpoint"] == "sendsms_cancel.asp"]


def test_send_at_becomes_dlvtime_in_taipei_time(gateway: Simulator) -> None:
    send_at = datetime(2031, 3, 4, 1, 30, 5, tzinfo=ZoneInfo("UTC"))
    message = send_sms("0912345678", "Reminder", send_at=send_at)
    message.refresh_from_db()
    (request,) = send_requests(gateway)
    assert request["params"]["dlvtime"] == "2031/03/04 09:30:05"
    assert message.status == Message.Status.SCHEDULED
    assert message.recipients.get().status == Recipient.Status.SUBMITTED


def test_scheduled_message_moves_on_when_its_time_comes(gateway: Simulator) -> None:
    message = send_sms("0912345678", "Reminder", send_at=timezone.now() + timedelta(hours=1))
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now() - timedelta(seconds=1))
    assert sweeper.sweep().now_submitted == [message.pk]
    message.refresh_from_db()
    assert message.status == Message.Status.SUBMITTED


def test_cancel_before_submission_is_local(gateway: Simulator) -> None:
    draft = create_draft(numbers(3), "Later", send_at=timezone.now() + timedelta(days=1))
    outcome = cancel_message(draft)
    draft.refresh_from_db()
    assert draft.status == Message.Status.CANCELLED
    assert outcome.cancelled_locally == 3
    assert set(draft.recipients.values_list("status", flat=True)) == {"cancelled"}
    assert gateway.requests == []


def test_cancel_of_a_scheduled_message_goes_to_the_gateway(gateway: Simulator) -> None:
    points_before = gateway.balance("tester")
    message = send_sms(numbers(60), "Later", send_at=timezone.now() + timedelta(days=1))
    message.refresh_from_db()
    assert message.points_charged == 60
    outcome = cancel_message(message)
    message.refresh_from_db()
    assert len(cancel_requests(gateway)) == 2  # one per msgid
    assert {b.cancelled for b in outcome.batches} == {True}
    assert not outcome.partial
    assert message.status == Message.Status.CANCELLED
    assert set(message.recipients.values_list("status", flat=True)) == {"cancelled"}
    assert set(message.batches.values_list("state", flat=True)) == {Batch.State.CANCELLED}
    assert message.points_charged == 0
    assert gateway.balance("tester") == points_before  # refunded by the gateway


def test_partial_cancel_is_reported_per_recipient(gateway: Simulator) -> None:
    message = send_sms(numbers(60), "Later", send_at=timezone.now() + timedelta(days=1))
    gateway.fault("code", endpoint="sendsms_cancel.asp", count=1, code=-1)
    outcome = cancel_message(message)
    message.refresh_from_db()
    assert outcome.partial
    (refused,) = outcome.refused
    assert refused.statuscode == -1
    assert len(refused.phones) == 50
    assert outcome.recipients[refused.phones[0]].startswith("not cancelled")
    cancelled_phone = next(p for p, o in outcome.recipients.items() if o == "cancelled")
    assert message.recipients.get(phone=cancelled_phone).status == Recipient.Status.CANCELLED
    assert message.recipients.filter(status=Recipient.Status.SUBMITTED).count() == 50
    assert message.status == Message.Status.SCHEDULED  # the refused part will still go


def test_a_message_whose_time_has_come_cannot_be_cancelled(gateway: Simulator) -> None:
    message = send_sms("0912345678", "Later", send_at=timezone.now() + timedelta(hours=1))
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(MessageNotCancellable, match="its time came"):
        cancel_message(message)
    assert cancel_requests(gateway) == []


def test_an_immediate_message_already_sent_cannot_be_cancelled(gateway: Simulator) -> None:
    message = send_sms("0912345678", "Now")
    with pytest.raises(MessageNotCancellable, match="without a schedule"):
        cancel_message(message)


def test_cancel_task_cancels_by_primary_key(gateway: Simulator) -> None:
    from django_smsgo.tasks import cancel_message

    message = send_sms(numbers(2), "Later", send_at=timezone.now() + timedelta(days=1))
    result = cancel_message.apply(args=[message.pk]).get()
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED
    assert list(result["batches"].values()) == [True]

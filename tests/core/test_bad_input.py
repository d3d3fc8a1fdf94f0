"""Bad input to send_sms(): a typed error naming the value and the rule, nothing stored or sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.exceptions import SmsgoValidationError
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services.sending import send_sms
from django_smsgo.simulator.instance import Simulator
from tests.core.conftest import send_requests

pytestmark = pytest.mark.django_db(transaction=True)

FAR = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("to", "body", "options", "rule"),
    [
        ("0912345678", "Hello\x00", {}, "U+0000"),
        ("0912345678", "Ding\x07", {}, "U+0007"),
        ("0912345678", "Hi", {"idempotency_key": "key\x00"}, "control characters"),
        ("0912345678", "Hi", {"idempotency_key": "k" * 256}, "at most 255"),
        ("0912345678", "Hi", {"send_at": FAR}, "send_at"),
        ("0912345678", "Hi", {"reply": "no"}, "True or False"),
        ("0912345678", "Hi", {"allow_duplicate": 1}, "True or False"),
        (912345678, "Hi", {}, "as text"),
        ([912345678], "Hi", {}, "as text"),
        ("0912345678", 12, {}, "string"),
        ("0912345678", "Sale", {"wap_url": "javascript:alert(1)"}, "http"),
        ("0912345678", "Hi", {"kind": "spam"}, "kind"),
        ("0912345678", "Hi", {"priority": 3}, "priority"),
        ("0912３４５６７٨", "Hi", {}, "digit"),
    ],
)
def test_bad_input_is_refused_with_a_typed_error(
    gateway: Simulator, to: Any, body: Any, options: dict[str, Any], rule: str
) -> None:
    with pytest.raises(SmsgoValidationError) as refused:
        send_sms(to, body, **options)
    assert rule in str(refused.value)
    assert "datetime.datetime(" not in str(refused.value)
    assert (Message.objects.count(), Recipient.objects.count(), Batch.objects.count()) == (0, 0, 0)
    assert send_requests(gateway) == []


def test_full_width_digits_are_the_same_number(gateway: Simulator) -> None:
    message = send_sms(["0912345675", "0912３４５６７５"], "Hi")
    assert list(message.recipients.values_list("phone", flat=True)) == ["0912345675"]


def test_a_full_width_opted_out_number_is_still_suppressed(gateway: Simulator) -> None:
    from django_smsgo.services.suppression import suppress

    suppress("0912345676")
    message = send_sms("０９１２３４５６７６", "Sale")
    recipient = message.recipients.get()
    assert recipient.phone == "0912345676"
    assert recipient.status == Recipient.Status.CANCELLED
    assert send_requests(gateway) == []


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_idempotency_key_is_no_key(gateway: Simulator, key: str) -> None:
    first = send_sms("0912345601", "First", idempotency_key=key)
    second = send_sms("0912345602", "Second", idempotency_key=key)
    assert first.pk != second.pk
    assert first.idempotency_key is None
    assert len(send_requests(gateway)) == 2


def test_a_schedule_within_the_gateway_s_reach_is_accepted(gateway: Simulator) -> None:
    later = timezone.now() + timedelta(days=30)
    message = send_sms("0912345603", "Later", send_at=later)
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED

"""phonenumbers' and django-phonenumber-field's PhoneNumber objects as receiver numbers."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest

from django_smsgo.exceptions import InvalidNumberError
from django_smsgo.integrations.phonenumber import gateway_number
from django_smsgo.models import Message

pytestmark = pytest.mark.django_db

phonenumber_field = pytest.importorskip("phonenumber_field.phonenumber")
PhoneNumber = phonenumber_field.PhoneNumber


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (PhoneNumber.from_string("0912-345-678", region="TW"), "0912345678"),
        (phonenumbers.parse("+886 912 345 678"), "0912345678"),
        (PhoneNumber.from_string("+81 90-1234-5678"), "+819012345678"),
        ("0912 345 678", "0912345678"),
    ],
)
def test_phone_numbers_become_gateway_numbers(number: Any, expected: str) -> None:
    assert gateway_number(number) == expected


def test_numbers_of_other_regions_follow_the_international_rules() -> None:
    with pytest.raises(InvalidNumberError, match="mobile"):
        gateway_number(PhoneNumber.from_string("+886 2 2345 6789"))
    with pytest.raises(InvalidNumberError, match="not a valid number"):
        gateway_number(PhoneNumber.from_string("+81 90-1234"))


def test_send_sms_takes_a_phone_number(sms_gateway: Any) -> None:
    from django_smsgo import send_sms

    message = send_sms(PhoneNumber.from_string("0912345678", region="TW"), "Hi")
    assert list(message.recipients.values_list("phone", flat=True)) == ["0912345678"]


def test_send_mass_sms_takes_mixed_lists(sms_gateway: Any) -> None:
    from django_smsgo import send_mass_sms

    send_mass_sms(
        [
            ([PhoneNumber.from_string("+886912345678"), "0912345679"], "Hi"),
            (phonenumbers.parse("+819012345678"), "Hello"),
        ]
    )
    assert Message.objects.count() == 2


def test_send_otp_and_verify_otp_take_a_phone_number(sms_gateway: Any, settings: Any) -> None:
    from django_smsgo.codes import send_otp, verify_otp

    phone = PhoneNumber.from_string("0912-345-678", region="TW")
    sent = send_otp(phone)
    code = sent.message.body.split("is ")[1][:6]
    assert sent.phone == "0912345678"
    assert verify_otp(phone, code)

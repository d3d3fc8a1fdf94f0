"""``phonenumbers.PhoneNumber`` objects (and subclasses such as django-phonenumber-field's)."""

from __future__ import annotations

import phonenumbers
import pytest

from django_smsgo.client.numbers import normalize_number, normalize_numbers
from django_smsgo.client.validation import validate_send
from django_smsgo.exceptions import InvalidNumberError


class FieldPhoneNumber(phonenumbers.PhoneNumber):
    """Stands for django-phonenumber-field's ``PhoneNumber``: a subclass with its own ``str``."""

    def __str__(self) -> str:
        return phonenumbers.format_number(self, phonenumbers.PhoneNumberFormat.NATIONAL)


def field_number(text: str, region: str | None = None) -> FieldPhoneNumber:
    number = FieldPhoneNumber()
    number.merge_from(phonenumbers.parse(text, region))
    return number


@pytest.mark.parametrize(
    "number",
    [
        phonenumbers.parse("+886912345678"),
        phonenumbers.parse("0912-345-678", "TW"),
        field_number("+886 912 345 678"),
        field_number("0912345678", "TW"),
    ],
)
def test_taiwanese_phone_numbers_become_09(number):
    assert normalize_number(number) == "0912345678"


def test_other_regions_follow_the_international_rules():
    assert normalize_number(phonenumbers.parse("+8613681912700")) == "+8613681912700"
    assert normalize_number(field_number("07911 123456", "GB")) == "+447911123456"
    with pytest.raises(InvalidNumberError, match="mobile"):
        normalize_number(phonenumbers.parse("+442079460018"))  # a London landline


def test_mixed_lists_are_normalised_and_deduplicated():
    numbers = normalize_numbers(
        [
            "0912345678",
            phonenumbers.parse("+886912345678"),
            field_number("+8613681912700"),
            "+86 136 8191 2700",
            "0912３４５６７９",
            phonenumbers.parse("0912345679", "TW"),
        ]
    )
    assert numbers == ("0912345678", "+8613681912700", "0912345679")


def test_one_phone_number_is_a_list_of_one():
    assert normalize_numbers(phonenumbers.parse("+886912345678")) == ("0912345678",)
    prepared = validate_send(field_number("+886912345678"), "hi")
    assert prepared.numbers == ("0912345678",)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (phonenumbers.parse("+886223456789"), "mobile"),
        (phonenumbers.PhoneNumber(), "holds no number"),
        (phonenumbers.parse("+886912345678 ext. 12", None), "extension"),
        (phonenumbers.PhoneNumber(country_code=886, national_number=9123), "not a valid number"),
    ],
)
def test_bad_phone_numbers_are_named_with_their_reason(number, reason):
    with pytest.raises(InvalidNumberError) as caught:
        normalize_numbers(["0912345678", number])
    [(value, why)] = caught.value.invalid
    assert value is number
    assert reason in why

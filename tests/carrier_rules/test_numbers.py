"""Phone numbers found in any spelling, and checked against the registered list."""

from __future__ import annotations

import pytest

from django_smsgo.services.carrier_rules.errors import UnregisteredNumberError
from django_smsgo.services.carrier_rules.numbers import (
    canonical_number,
    check_numbers,
    find_phone_numbers,
    parse_registered_numbers,
)


def numbers(text: str) -> list[str]:
    return [found.number for found in find_phone_numbers(text)]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("請電 0912345678", "0912345678"),
        ("請電0912-345-678洽詢", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("(02)2345-6789", "0223456789"),
        ("(02) 2345 6789", "0223456789"),
        ("02-2345-6789", "0223456789"),
        ("037-123456", "037123456"),
        ("0800-000-123", "0800000123"),
        ("0800-000-123#12", "0800000123"),  # the extension is not the number
        ("+886 912 345 678", "0912345678"),
        ("+886-2-2345-6789", "0223456789"),
        ("+886 (2) 2345-6789", "0223456789"),
        ("886912345678", "0912345678"),
        ("00886-2-2345-6789", "0223456789"),
        ("０９１２３４５６７８", "0912345678"),  # full-width digits
        ("０９１２－３４５－６７８", "0912345678"),  # and full-width dashes
        ("0912–345–678", "0912345678"),  # en dashes
        ("09\u200b12345678", "0912345678"),  # zero-width space inside
        ("＋８８６ ９１２ ３４５ ６７８", "0912345678"),
        ("+1 212 555 0100", "+12125550100"),
        ("tel:+886912345678", "0912345678"),
    ],
)
def test_numbers_are_found_in_any_spelling(text: str, number: str) -> None:
    assert numbers(text) == [number]


@pytest.mark.parametrize(
    "text",
    [
        "您的驗證碼為 123456",
        "訂單編號 12345678",
        "2025-11-01 09:00 出貨",
        "09/12/2025 10:00",
        "NT$1,280",
        "請撥 165 反詐騙專線",
        "https://shop.example.com/p/0912345678",  # digits of a link belong to the link
    ],
)
def test_codes_dates_and_amounts_are_not_numbers(text: str) -> None:
    assert numbers(text) == []


def test_two_numbers_side_by_side_are_two() -> None:
    assert numbers("0912345678 0223456789") == ["0912345678", "0223456789"]
    assert numbers("call 0912-345-678 or (02)2345-6789") == ["0912345678", "0223456789"]


def test_a_number_quotes_the_text_as_written() -> None:
    text = "洽詢：（０２）２３４５－６７８９，謝謝"
    (found,) = find_phone_numbers(text)
    assert found.number == "0223456789"
    assert text[found.start : found.end] == found.written
    assert "２３４５－６７８９" in found.written


def test_canonical_spellings_agree() -> None:
    spellings = ["0223456789", "02-2345-6789", "+886 2 2345 6789", "886223456789", "00886223456789"]
    assert {canonical_number(s) for s in spellings} == {"0223456789"}
    assert canonical_number("12345") is None


def test_rule_off_refuses_nothing() -> None:
    assert numbers("0912345678") == ["0912345678"]
    check_numbers("請電 0912345678", registered=None)


def test_registered_numbers_pass_in_any_spelling_others_are_refused_naming_them() -> None:
    check_numbers("客服 (02)2345-6789", registered=["+886-2-2345-6789"])
    with pytest.raises(UnregisteredNumberError) as caught:
        check_numbers("客服 (02)2345-6789 或 0912-345-678", registered=["02-2345-6789"])
    assert caught.value.rule_code == "numbers"
    assert caught.value.number == "0912345678"
    assert "0912-345-678" in str(caught.value)
    assert "REGISTERED_NUMBERS" in str(caught.value)


def test_bad_registered_entries_are_named() -> None:
    with pytest.raises(ValueError, match="'2345-6789'"):
        parse_registered_numbers(["2345-6789"])

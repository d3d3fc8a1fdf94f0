"""services.estimates.estimate(): encoding, segments, numbers and points, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from django_smsgo.models import Message
from django_smsgo.services.estimates import estimate

pytestmark = pytest.mark.django_db


def test_ascii_text_to_valid_and_invalid_numbers() -> None:
    result = estimate(["0912345678", "0912-345-678", "0912", "+8613681912700"], "Hello")

    assert result.encoding == "ASCII"
    assert result.characters == 5
    assert result.segments == 1
    assert result.valid_numbers == 2  # the repeat counts once
    assert [value for value, _ in result.invalid_numbers] == ["0912"]
    assert "09 followed by 8 digits" in result.invalid_numbers[0][1]
    assert result.points == 2
    assert result.text_error is None
    assert result.sendable


def test_every_bad_number_is_named() -> None:
    result = estimate("0912, 12ab ;+44 20 7946 0000\n0912345678", "Hi")

    assert [value for value, _ in result.invalid_numbers] == ["0912", " 12ab ", "+44 20 7946 0000"]
    assert result.valid_numbers == 1


def test_long_chinese_text_takes_the_long_encoding_and_segments_of_67() -> None:
    result = estimate(["0912345678", "0987654321"], "您好" * 40)  # 80 characters

    assert result.encoding == "LBIG5"
    assert result.segments == 2
    assert result.points == 4


def test_text_too_long_for_the_chosen_encoding_is_reported_not_raised() -> None:
    result = estimate(["0912345678"], "您好" * 40, encoding="BIG5")

    assert result.encoding == "BIG5"
    assert result.points == 0
    assert result.text_error is not None
    assert "70 characters" in result.text_error
    assert not result.sendable


def test_reply_surcharge_is_counted_per_request_of_50() -> None:
    numbers = [f"09123456{n:02d}" for n in range(61)]  # requests of 50 and 11

    result = estimate(numbers, "x", reply=True)

    assert result.points == (50 + 5) + (11 + 2)


def test_popup_spelling_with_double_i_is_accepted() -> None:
    assert estimate(["0912345678"], "Hi", encoding="PASCII").encoding == "PASCI"


def test_an_unknown_encoding_is_reported() -> None:
    result = estimate(["0912345678"], "Hi", encoding="KLINGON")

    assert result.encoding is None
    assert result.text_error is not None
    assert "KLINGON" in result.text_error


def test_the_default_encoding_setting_applies(settings: Any) -> None:
    settings.SMSGO = {**settings.SMSGO, "DEFAULT_ENCODING": "UCS2"}

    assert estimate(["0912345678"], "Hi").encoding == "UCS2"


def test_nothing_is_stored() -> None:
    estimate(["0912345678"], "Hello")

    assert Message.objects.count() == 0

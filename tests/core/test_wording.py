"""Refusals and hints in the reader's language (``services.wording``), and the estimate's
compose hints: duplicates, characters left, UCS2 characters, full-width ASCII."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from django_smsgo.admin.recipient_input import restore_leading_zero, split_pasted
from django_smsgo.client.numbers import normalize_number
from django_smsgo.exceptions import InvalidNumberError, ScheduleError
from django_smsgo.services.estimates import estimate
from django_smsgo.services.wording import encoding_words, explain, half_width, status_words

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "(Taiwan time) is in the past"), ("zh-hant", "（台灣時間）已經過去")],
)
def test_a_past_schedule_reads_as_a_taiwan_time_not_a_repr(language: str, words: str) -> None:
    error = ScheduleError(
        datetime(2026, 12, 1, 9, 0, tzinfo=TAIPEI), "send_at must be in the future"
    )
    with translation.override(language):
        text = explain(error)
    assert text.startswith("2026-12-01 09:00")
    assert words in text
    assert "tzinfo" not in text
    assert "send_at" not in text


def test_number_rules_are_translated_when_read() -> None:
    with pytest.raises(InvalidNumberError) as caught:
        normalize_number("12345")
    ((_value, reason),) = caught.value.invalid
    assert reason == "a Taiwanese mobile number is 09 followed by 8 digits (10 digits)"
    with translation.override("zh-hant"):
        assert "台灣手機號碼為 09 加 8 位數字" in explain(caught.value)
        result = estimate(["12345"], "您好")
    assert result.invalid_numbers == (("12345", "台灣手機號碼為 09 加 8 位數字（共 10 碼）"),)


def test_vendor_codes_have_words() -> None:
    with translation.override("zh-hant"):
        assert encoding_words("LBIG5") == "長簡訊，中文"
        assert status_words("DELIVRD") == "已送達"
    assert encoding_words("NOPE") == ""
    assert status_words("") == ""


def test_excel_numbers_get_their_leading_zero_back() -> None:
    assert restore_leading_zero("912345678") == "0912345678"
    assert restore_leading_zero("912-345-678") == "0912345678"
    assert restore_leading_zero("12345") == "12345"
    assert restore_leading_zero("+886912345678") == "+886912345678"
    assert split_pasted("912345678\n0922333444") == ["0912345678", "0922333444"]


def test_the_estimate_counts_duplicates_and_characters_left() -> None:
    result = estimate(["0912345678", "0912-345-678", "+886 912 345 678", "0922333444"], "Hello")
    assert result.valid_numbers == 2
    assert result.duplicates == 2
    assert result.characters_left == 155
    long = estimate(["0912345678"], "x" * 200)
    assert long.segments == 2
    assert long.characters_left == 106  # two parts of 153


def test_the_estimate_names_full_width_and_ucs2_characters() -> None:
    full = estimate(["0912345678"], "Ｓａｌｅ ５０％！")
    assert full.encoding == "BIG5"
    assert dict(full.full_width) == {
        "Ｓ": "S",
        "ａ": "a",
        "ｌ": "l",
        "ｅ": "e",
        "５": "5",
        "０": "0",
        "％": "%",
        "！": "!",
    }
    assert full.ucs2_characters == ()
    emoji = estimate(["0912345678"], "您好 😀")
    assert emoji.encoding == "UCS2"
    assert emoji.ucs2_characters == ("😀",)
    assert emoji.full_width == ()
    assert half_width("，") == ","
    assert half_width("您") is None

"""Numbers, encodings, text rules and send validation: no network involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_smsgo.client.encodings import Encoding
from django_smsgo.client.numbers import chunked, normalize_number, normalize_numbers
from django_smsgo.client.statuses import FINAL_STATES, is_delivered, is_final
from django_smsgo.client.text import (
    choose_encoding,
    count_characters,
    count_segments,
    estimate_points,
    fit_encoding,
    split_text,
)
from django_smsgo.client.validation import format_dlvtime, validate_send
from django_smsgo.exceptions import (
    EmptyBodyError,
    InvalidEncodingError,
    InvalidNumberError,
    MessageTooLongError,
    OptionNotAllowedError,
    ScheduleError,
    TooManyNumbersError,
    UnencodableTextError,
)


@pytest.mark.parametrize(
    "written",
    [
        "0912345678",
        "0912-345-678",
        "0912 345 678",
        "(0912)345678",
        "+886912345678",
        "886912345678",
        "+886 912 345 678",
        "00886912345678",
        " 0912.345.678 ",
    ],
)
def test_taiwanese_forms_normalise_to_09(written):
    assert normalize_number(written) == "0912345678"


def test_international_numbers_keep_e164():
    assert normalize_number("+8613681912700") == "+8613681912700"
    assert normalize_number("+44 7911 123456") == "+447911123456"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0912", "09 followed by 8 digits"),
        ("0212345678", "09 followed by 8 digits"),
        ("+8613681912", "not a valid number"),
        ("+886223456789", "must be a mobile"),
        ("0912x45678", "only digits"),
        ("", "empty"),
        (912345678, "as text"),
    ],
)
def test_invalid_numbers_name_value_and_rule(value, reason):
    with pytest.raises(InvalidNumberError, match=reason) as caught:
        normalize_number(value)
    assert caught.value.invalid == [(value, caught.value.invalid[0][1])]
    assert isinstance(caught.value, ValueError)


def test_every_bad_number_of_a_list_is_reported_at_once():
    with pytest.raises(InvalidNumberError) as caught:
        normalize_numbers(["0912345678", "123", "0912345679", "+999"])
    assert [value for value, _ in caught.value.invalid] == ["123", "+999"]
    assert "'123'" in str(caught.value)
    assert "'+999'" in str(caught.value)


def test_repeats_are_sent_once_and_strings_split():
    assert normalize_numbers("0912345678, 0912-345-678;+886912345679") == (
        "0912345678",
        "0912345679",
    )


def test_chunked_splits_in_fifties():
    assert [len(chunk) for chunk in chunked(range(120), 50)] == [50, 50, 20]
    assert list(chunked([], 50)) == []


def test_more_than_fifty_numbers_is_refused():
    numbers = [f"09123456{i:02d}" for i in range(51)]
    with pytest.raises(TooManyNumbersError, match="chunked"):
        validate_send(numbers, "hi")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("PASCII", Encoding.PASCI), ("lascii", Encoding.LASCI), ("big5", Encoding.BIG5)],
)
def test_encoding_spellings(name, expected):
    assert Encoding.parse(name) is expected


def test_unknown_encoding_is_named():
    with pytest.raises(InvalidEncodingError, match="UTF8"):
        Encoding.parse("UTF8")


def test_final_states():
    assert "DELIVRD" in FINAL_STATES
    assert is_final(" acceptd ")
    assert not is_delivered("ACCEPTD")
    assert not is_final("ENROUTE")


def test_automatic_encoding():
    assert choose_encoding("hello") is Encoding.ASCII
    assert choose_encoding("簡訊測試") is Encoding.BIG5
    assert choose_encoding("简体字 😀") is Encoding.UCS2


def test_fit_encoding_picks_long_only_when_automatic():
    assert fit_encoding("a" * 160) is Encoding.ASCII
    assert fit_encoding("a" * 161) is Encoding.LASCI
    assert fit_encoding("簡" * 71) is Encoding.LBIG5
    assert fit_encoding("😀" * 36) is Encoding.LUCS2  # 72 UTF-16 units
    with pytest.raises(MessageTooLongError, match="161 characters"):
        fit_encoding("a" * 161, "ASCII")
    with pytest.raises(MessageTooLongError, match="330"):
        fit_encoding("a" * 331)
    with pytest.raises(MessageTooLongError):
        fit_encoding("簡" * 331, "LBIG5")


def test_text_the_encoding_cannot_carry_is_refused():
    with pytest.raises(UnencodableTextError, match=r"U\+7C21"):
        fit_encoding("簡訊", "ASCII")
    with pytest.raises(UnencodableTextError, match="cp950"):
        fit_encoding("简体 😀", "BIG5")
    assert fit_encoding("简体", "UCS2") is Encoding.UCS2


@pytest.mark.parametrize("body", ["", "   \n"])
def test_empty_body_is_refused(body):
    with pytest.raises(EmptyBodyError):
        validate_send("0912345678", body)


def test_segments_and_points():
    assert count_segments("a" * 160, "LASCI") == 1
    assert count_segments("a" * 161, "LASCI") == 2  # 153 per segment
    assert count_segments("a" * 307, "LASCI") == 3
    assert count_segments("簡" * 134, "LBIG5") == 2  # 67 per segment
    assert count_segments("簡" * 135, "LBIG5") == 3
    assert count_segments("標題", "PUSH", wapurl="http://e.tw/" + "x" * 70) == 1  # 6 + 82 bytes
    assert count_segments("標題", "PUSH", wapurl="http://e.tw/" + "x" * 71) == 2
    assert estimate_points("hi", 25) == 25
    assert estimate_points("a" * 200, ["0912345678"] * 11, with_reply=True) == 22 + 3


def test_option_rules():
    with pytest.raises(OptionNotAllowedError, match="wapurl"):
        validate_send("0912345678", "title", encoding="PUSH")
    with pytest.raises(OptionNotAllowedError, match="only with PUSH"):
        validate_send("0912345678", "hi", wapurl="http://e.tw")
    with pytest.raises(OptionNotAllowedError, match="replyurl is allowed only"):
        validate_send("0912345678", "hi", encoding="LASCI", replyurl="https://e.tw/r/")
    with pytest.raises(OptionNotAllowedError, match="at most 300"):
        validate_send("0912345678", "hi", replyurl="https://e.tw/" + "r" * 290)
    with pytest.raises(OptionNotAllowedError, match="1 to 30"):
        validate_send("0912345678", "hi", replyurl="https://e.tw/r/", replydays=31)
    with pytest.raises(OptionNotAllowedError, match="international"):
        validate_send("+8613681912700", "hi", encoding="PASCI")
    prepared = validate_send("0912345678", "hi", replydays=5)
    assert "replydays" not in prepared.params()  # meaningless without replyurl


def test_callback_urls_stay_out_of_error_messages():
    url = "ftp://e.tw/smsgo/report/1/SIGNATURE/"
    with pytest.raises(OptionNotAllowedError) as caught:
        validate_send("0912345678", "hi", response=url)
    assert "SIGNATURE" not in str(caught.value)


def test_dlvtime_is_taipei_local_time():
    moment = datetime(2030, 12, 31, 20, 30, 15, 999, tzinfo=UTC)
    assert format_dlvtime(moment) == "2031/01/01 04:30:15"
    assert format_dlvtime(moment.astimezone(timezone(timedelta(hours=-5)))) == (
        "2031/01/01 04:30:15"
    )


def test_dlvtime_naive_or_past_is_refused():
    with pytest.raises(ScheduleError, match="naive"):
        validate_send("0912345678", "hi", dlvtime=datetime(2030, 1, 1))
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ScheduleError, match="past"):
        validate_send("0912345678", "hi", dlvtime=now - timedelta(seconds=1), now=now)
    assert validate_send("0912345678", "hi", dlvtime=now, now=now).dlvtime_text == (
        "2030/01/01 08:00:00"
    )


# Text from ASCII, BIG5-only Chinese, other CJK and emoji, with spaces and new lines.
texts = st.text(
    alphabet=st.sampled_from(list("abc XYZ.,\n") + list("簡訊測試，。") + ["简", "😀", "é"]),
    max_size=700,
)


@given(texts)
def test_split_text_pieces_fit_and_join_back(text):
    pieces = split_text(text)
    assert "".join(pieces) == text
    for piece in pieces:
        assert piece
        assert count_characters(piece) <= (160 if piece.isascii() else 70)
        fit_encoding(piece) if piece.strip() else None


@given(st.text(alphabet=st.sampled_from([*"ab cd", "簡"]), min_size=1, max_size=2000))
def test_split_text_long_pieces_fit_330(text):
    pieces = split_text(text, "LUCS2")
    assert "".join(pieces) == text
    assert all(count_characters(piece) <= 330 for piece in pieces)


@given(
    st.text(min_size=1, max_size=100).filter(lambda t: t.strip() and t.encode("utf-8", "ignore"))
)
def test_automatic_encoding_carries_the_text(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return
    encoding = choose_encoding(text)
    if encoding.charset == "ascii":
        assert text.encode("ascii").decode("ascii") == text
    elif encoding.charset == "cp950":
        assert text.encode("cp950").decode("cp950") == text
    if text.strip() and count_characters(text) <= 330:
        assert fit_encoding(text).charset == encoding.charset


@given(st.integers(min_value=1, max_value=330), st.booleans())
def test_segment_count_matches_the_rule(length, ascii_text):
    text = ("a" if ascii_text else "簡") * length
    single, per = (160, 153) if ascii_text else (70, 67)
    expected = 1 if length <= single else -(-length // per)
    assert count_segments(text, "LUCS2") == expected

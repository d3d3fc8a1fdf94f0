"""Look-alike digits: full-width forms become ASCII, every other non-ASCII digit is refused.

Chinese input methods type full-width digits (０-９), signs and the
ideographic space; they are the same number and must be stored and sent once,
in ASCII. Other digits (Arabic-Indic ٠-٩, Devanagari, superscripts ²) are
not what anyone dials and are refused with the rule named.
"""

from __future__ import annotations

import pytest

from django_smsgo.client.answers import AnswerFormatError, parse_send, parse_statuses
from django_smsgo.client.numbers import normalize_number, normalize_numbers
from django_smsgo.client.validation import check_msgid, validate_send
from django_smsgo.exceptions import InvalidMsgidError, InvalidNumberError


@pytest.mark.parametrize(
    "written",
    [
        "０９１２３４５６７８",
        "0912３４５６７８",
        "０９１２－３４５－６７８",
        "（０９１２）３４５６７８",
        "＋８８６\u3000９１２\u3000３４５\u3000６７８",
        "＋886 912 345 678",
        "００８８６９１２３４５６７８",
        "０９１２．３４５．６７８",
    ],
)
def test_full_width_forms_become_the_ascii_number(written):
    assert normalize_number(written) == "0912345678"


def test_a_full_width_spelling_is_the_same_number_and_sent_once():
    assert normalize_numbers(["0912345675", "0912３４５６７５"]) == ("0912345675",)
    prepared = validate_send(["0912345675", "0912３４５６７５"], "hi")
    assert prepared.numbers == ("0912345675",)
    assert prepared.params()["dstaddr"] == "0912345675"


def test_full_width_international_numbers_become_ascii_e164():
    assert normalize_number("＋８６ １３６８１９１２７００") == "+8613681912700"


@pytest.mark.parametrize(
    ("written", "code_point"),
    [
        ("٠٩١٢٣٤٥٦٧٨", "U+0660"),  # Arabic-Indic
        ("۰۹۱۲۳۴۵۶۷۸", "U+06F0"),  # Extended Arabic-Indic (Persian)
        ("0912३४५६७८", "U+0969"),  # Devanagari
        ("091234567²", "U+00B2"),  # superscript two
        ("+८८६912345678", "U+096E"),  # phonenumbers itself would read these
        ("+86１３６８１９１２७००", "U+096D"),
        ("0912𝟑45678", "U+1D7D1"),  # mathematical bold digit
    ],
)
def test_other_non_ascii_digits_are_refused_naming_the_rule(written, code_point):
    with pytest.raises(InvalidNumberError) as caught:
        normalize_number(written)
    reason = caught.value.invalid[0][1]
    assert code_point in reason
    assert "0-9" in reason
    assert caught.value.invalid[0][0] == written


def test_a_list_reports_each_look_alike():
    with pytest.raises(InvalidNumberError) as caught:
        normalize_numbers(["0912345678", "٠٩١٢٣٤٥٦٧٨", "0912３４５６７９"])
    assert [value for value, _ in caught.value.invalid] == ["٠٩١٢٣٤٥٦٧٨"]


def test_msgids_take_full_width_digits_and_refuse_the_others():
    assert check_msgid("１２３４５") == "12345"
    for bad in ("١٢٣", "12³", "१२"):
        with pytest.raises(InvalidMsgidError) as caught:
            check_msgid(bad)
        assert "0-9" in caught.value.rule


def test_send_answers_read_full_width_and_refuse_other_digits():
    answer = parse_send("msgid=１２３\nstatuscode=０\npoint=１\n".encode())
    assert (answer.msgid, answer.statuscode, answer.points) == ("123", 0, 1)
    for body in (
        "msgid=١٢٣\nstatuscode=0\n",
        "msgid=1\nstatuscode=٠\n",
        "msgid=1\nstatuscode=0\npoint=٣\n",
    ):
        with pytest.raises(AnswerFormatError):
            parse_send(body.encode())


def test_query_rows_read_numbers_and_msgids_in_ascii():
    rows = parse_statuses("0|DELIVRD|０９１２３４５６７８|１２\n".encode())
    assert (rows[0].phone, rows[0].msgid) == ("0912345678", "12")
    for body in ("0|DELIVRD|٠٩١٢٣٤٥٦٧٨|12", "0|DELIVRD|0912345678|١٢", "٠|DELIVRD|0912345678|12"):
        with pytest.raises(AnswerFormatError):
            parse_statuses(body.encode())


def test_int_parsing_takes_no_underscores():
    with pytest.raises(AnswerFormatError):
        parse_send(b"msgid=1\nstatuscode=0\npoint=1_0\n")


def test_a_list_typed_with_full_width_separators_is_split():
    assert normalize_numbers("0912345678，0912345679；0912345670、０９１２３４５６７１") == (
        "0912345678",
        "0912345679",
        "0912345670",
        "0912345671",
    )

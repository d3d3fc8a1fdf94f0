"""The answer parsers: any spacing, ordering, line ends and key case."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_smsgo.client.answers import (
    AnswerFormatError,
    parse_balance,
    parse_send,
    parse_statuses,
    read_records,
)

spaces = st.text(alphabet=" \t", max_size=3)
newlines = st.sampled_from(["\n", "\r\n"])


@given(
    st.permutations(["msgid", "statuscode", "statusstr", "point"]),
    st.lists(spaces, min_size=8, max_size=8),
    newlines,
    st.integers(min_value=1, max_value=10**18),
    st.booleans(),
)
def test_key_value_send_answer_in_any_order_and_spacing(order, pads, newline, msgid, upper):
    values = {"msgid": str(msgid), "statuscode": "0", "statusstr": "OK", "point": "3"}
    lines = []
    for index, key in enumerate(order):
        name = key.upper() if upper else key
        lines.append(f"{pads[2 * index]}{name}={pads[2 * index + 1]}{values[key]}{pads[0]}")
    answer = parse_send(newline.join(lines).encode())
    assert (answer.msgid, answer.statuscode, answer.statusstr, answer.points) == (
        str(msgid),
        0,
        "OK",
        3,
    )


state = st.sampled_from(["DELIVRD", "ENROUTE", "UNDELIV", "ACCEPTD", "SCHEDULED"])
phone = st.from_regex(r"09[0-9]{8}", fullmatch=True)


@given(
    st.lists(st.tuples(state, phone, st.integers(min_value=1, max_value=10**15)), min_size=1),
    st.lists(spaces, min_size=4, max_size=4),
    newlines,
    st.booleans(),
)
def test_pipe_rows_with_any_whitespace_and_line_end(rows, pads, newline, trailing):
    a, b, c, d = pads
    text = newline.join(f"{a}0{b}|{c}{s}{d}|{a}{p}{b}|{c}{m}{d}" for s, p, m in rows) + (
        newline if trailing else ""
    )
    parsed = parse_statuses(text.encode())
    assert [(r.statuscode, r.statusstr, r.phone, r.msgid) for r in parsed] == [
        (0, s, p, str(m)) for s, p, m in rows
    ]


def test_json_key_case_and_trailing_commas():
    records = read_records(
        b'{"results":{"result":[{"statusCode":"0","StatusStr":"DELIVRD","cellphone":"1"},'
        b'{"statuscode":"0","statusstr":"EXPIRED","cellphone":"2"},]}}'
    )
    assert [(r["statuscode"], r["statusstr"], r["phone"]) for r in records] == [
        ("0", "DELIVRD", "1"),
        ("0", "EXPIRED", "2"),
    ]


def test_xml_lists_and_namespaces():
    rows = parse_statuses(
        b'<results xmlns="urn:x"><result><StatusCode>0</StatusCode><statusstr>DELIVRD'
        b"</statusstr><phone>0912345678</phone><msgid>9</msgid></result></results>"
    )
    assert [(r.statusstr, r.msgid) for r in rows] == [("DELIVRD", "9")]


def test_xml_with_a_dtd_is_refused():
    with pytest.raises(AnswerFormatError, match="DTD"):
        read_records(b'<!DOCTYPE x [<!ENTITY a "b">]><result><statuscode>0</statuscode></result>')


def test_big5_answer_text_is_read():
    answer = parse_send("msgid=1\nstatuscode=0\nstatusstr=成功\n".encode("cp950"))
    assert answer.statusstr == "成功"


def test_balance_without_point_is_unreadable():
    with pytest.raises(AnswerFormatError, match="point"):
        parse_balance(b'{"results":{"result":[{"statuscode":"0"}]}}')


def test_a_pipe_line_with_too_many_fields_is_unreadable():
    with pytest.raises(AnswerFormatError):
        parse_statuses(b"0|DELIVRD|0912345678|1|extra")

"""sendsms.aspx against the vendor document, rule by rule (table 1, the notes, decision 11)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import requests

from django_smsgo.simulator import Account, Simulator

from .conftest import PASSWORD, POINTS, USERNAME, Call, plain

OK_ANSWER = re.compile(r"msgid=(\d{15,16})\nstatuscode=0\nstatusstr=OK\npoint=(\d+)\n")
CJK = "簡"
WAPURL = "http://w.example/abc"
#: The statusstr of each refusal: table 1's words; FAQ 7's exact answer for a malformed request.
TABLE_1 = {
    -1: "CGI string error!!",
    -2: "授權錯誤(帳號/密碼錯誤/IP錯誤)",
    -5: "B Number違反規則",
    -6: "Closed User",
    -7: "Invalid Encoding",
    -8: "點數不夠",
    -9: "Invalid msisdn amount",
}


def test_accepted_send_answers_exactly_as_the_document(call: Call) -> None:
    response = call("sendsms.aspx", dstaddr="0912345678", encoding="ASCII", smbody="Smtest")
    assert response.status_code == 200
    match = OK_ANSWER.fullmatch(response.text)
    assert match, response.text
    assert match.group(2) == "1"


def test_every_request_gets_its_own_increasing_msgid(call: Call) -> None:
    msgids = [
        int(plain(call("sendsms.aspx", dstaddr="0912345678", smbody=f"n{i}"))["msgid"])
        for i in range(5)
    ]
    assert msgids == sorted(set(msgids))
    assert all(15 <= len(str(m)) <= 16 for m in msgids)


def test_several_numbers_share_one_msgid_and_pay_one_point_each(
    call: Call, smsgo_simulator: Simulator
) -> None:
    answer = plain(
        call("sendsms.aspx", dstaddr="0912345678,0922333444,+8613681912700", smbody="hi")
    )
    assert answer["point"] == "3"
    message = smsgo_simulator.message(answer["msgid"])
    assert list(message.receivers) == ["0912345678", "0922333444", "+8613681912700"]
    assert smsgo_simulator.balance(USERNAME) == POINTS - 3


def test_the_table_spelling_smbdy_is_accepted(call: Call, smsgo_simulator: Simulator) -> None:
    answer = plain(call("sendsms.aspx", dstaddr="0912345678", smbdy="from smbdy"))
    assert answer["statuscode"] == "0"
    assert smsgo_simulator.message(answer["msgid"]).body == "from smbdy"


def test_post_form_is_accepted_like_get(call: Call, smsgo_simulator: Simulator) -> None:
    answer = plain(call("sendsms.aspx", method="POST", dstaddr="0912345678", smbody="簡訊測試"))
    assert answer["statuscode"] == "0"
    assert smsgo_simulator.message(answer["msgid"]).body == "簡訊測試"


def test_empty_body_is_the_faq_answer_exactly(call: Call, smsgo_simulator: Simulator) -> None:
    response = call("sendsms.aspx", dstaddr="0912345678", smbody="")
    assert response.text == "msgid=-1\nstatuscode=-1\nstatusstr=CGI string error!!\npoint=0\n"
    assert smsgo_simulator.messages == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"password": "wrong"}, -2),
        ({"username": "nobody"}, -2),
        ({"password": None}, -2),
        ({"dstaddr": None}, -5),
        ({"dstaddr": ""}, -5),
        ({"dstaddr": None, "staddr": "0912345678"}, -5),
        ({"dstaddr": "0812345678"}, -5),
        ({"dstaddr": "091234567"}, -5),
        ({"dstaddr": "09123456789"}, -5),
        ({"dstaddr": "0912-345-678"}, -5),
        ({"dstaddr": "0912345678,"}, -5),
        ({"dstaddr": "+8612345678901"}, -5),
        ({"dstaddr": "+86136819127"}, -5),
        ({"dstaddr": "+0012345678"}, -5),
        ({"dstaddr": ",".join(["0912345678"] * 51)}, -9),
        ({"encoding": "UTF8"}, -7),
        ({"encoding": "big5"}, -7),
        ({"encoding": "LBIG5", "dstaddr": "+8613681912700"}, -7),
        ({"encoding": "PASCI", "dstaddr": "+14155550100"}, -7),
        ({"encoding": "LBIG5", "replyurl": "http://vendor.example/reply"}, -7),
        ({"encoding": "PBIG5", "replydays": "3"}, -7),
        ({"replyurl": "http://v.example/" + "r" * 284}, -1),
        ({"replyurl": "ftp://v.example/reply"}, -1),
        ({"replyurl": "http://v.example/r", "replydays": "31"}, -1),
        ({"replyurl": "http://v.example/r", "replydays": "0"}, -1),
        ({"replyurl": "http://v.example/r", "replydays": "x"}, -1),
        ({"encoding": "PUSH"}, -1),
        ({"wapurl": "http://wap.example"}, -1),
        ({"dlvtime": "2030-01-01 10:00:00"}, -1),
        ({"dlvtime": "2030/13/01 10:00:00"}, -1),
        ({"smbody": None}, -1),
    ],
)
def test_refusals_answer_their_code_and_change_nothing(
    call: Call, smsgo_simulator: Simulator, params: dict[str, str | None], code: int
) -> None:
    request = {"dstaddr": "0912345678", "smbody": "hello", **params}
    answer = plain(call("sendsms.aspx", **request))
    # History 2.10 and FAQ 7: the error code is in msgid too.
    assert answer == {
        "msgid": str(code),
        "statuscode": str(code),
        "statusstr": TABLE_1[code],
        "point": "0",
    }
    assert smsgo_simulator.messages == []
    assert smsgo_simulator.balance(USERNAME) == POINTS


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"dstaddr": "0812345678"}, -5),
        ({"password": "no"}, -2),
        ({"encoding": "X"}, -7),
        ({"dstaddr": ",".join(["0912345678"] * 51)}, -9),
        ({"smbody": ""}, -1),
    ],
)
def test_refused_send_has_its_code_in_msgid_in_every_format(
    call: Call, params: dict[str, str], code: int
) -> None:
    request = {"dstaddr": "0912345678", "smbody": "x", **params}
    data = call("sendsms.aspx", rtype="JSON", **request).json()
    assert data == {
        "result": {"msgid": code, "statuscode": str(code), "statusstr": TABLE_1[code], "point": 0}
    }
    root = ET.fromstring(call("sendsms.aspx", rtype="XML", **request).content)  # noqa: S314
    assert (root.findtext("msgid"), root.findtext("statuscode")) == (str(code), str(code))
    assert root.findtext("statusstr") == TABLE_1[code]


def test_each_code_answers_the_words_of_table_1(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.add_account("poor", "pw", 0)
    smsgo_simulator.state.put_account(Account("gone", "pw", 10, closed=True))
    send = {"dstaddr": "0912345678", "smbody": "x"}
    texts = {
        plain(call("sendsms.aspx", **{**send, "dstaddr": "0812345678"}))["statusstr"],
        plain(call("sendsms.aspx", **send, password="no"))["statusstr"],
        plain(call("sendsms.aspx", **send, encoding="X"))["statusstr"],
        plain(call("sendsms.aspx", **send, username="poor", password="pw"))["statusstr"],
        plain(call("sendsms.aspx", **send, username="gone", password="pw"))["statusstr"],
    }
    assert texts == {
        "B Number違反規則",
        "授權錯誤(帳號/密碼錯誤/IP錯誤)",
        "Invalid Encoding",
        "點數不夠",
        "Closed User",
    }


@pytest.mark.parametrize(
    "dstaddr",
    [
        "０９１２３４５６７８",  # full-width digits
        "09１2345678",
        "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "+８６13681912700",
        "+1415555０100",
        "09123456７8,0912345678",
    ],
)
def test_non_ascii_digits_in_a_number_are_minus_5_not_normalised(
    call: Call, smsgo_simulator: Simulator, dstaddr: str
) -> None:
    answer = plain(call("sendsms.aspx", dstaddr=dstaddr, smbody="x"))
    assert (answer["statuscode"], answer["msgid"]) == ("-5", "-5")
    assert smsgo_simulator.messages == []


@pytest.mark.parametrize(
    "dlvtime",
    [
        "2031/1/5 9:05:00",
        "2031/01/05 9:05:00",
        "2031/01/05 09:05",
        " 2031/01/05 09:05:00",
        "2031/01/05 09:05:00 ",
        "2031/01/05  09:05:00",
        "2031/01/05T09:05:00",
        "２０３１/01/05 09:05:00",
        "2031/02/30 09:05:00",
        "2031/01/05 24:00:00",
        "31/01/05 09:05:00",
    ],
)
def test_dlvtime_must_be_exactly_yyyy_mm_dd_hh24_mm_ss(
    call: Call, smsgo_simulator: Simulator, dlvtime: str
) -> None:
    answer = plain(call("sendsms.aspx", dstaddr="0912345678", smbody="x", dlvtime=dlvtime))
    assert answer == {
        "msgid": "-1",
        "statuscode": "-1",
        "statusstr": "CGI string error!!",
        "point": "0",
    }
    assert smsgo_simulator.messages == []


@pytest.mark.parametrize("replydays", ["３", "²", "1" * 5000, "-3", "3.0", " 3"])
def test_replydays_must_be_ascii_digits(
    call: Call, smsgo_simulator: Simulator, replydays: str
) -> None:
    response = call(
        "sendsms.aspx",
        dstaddr="0912345678",
        smbody="x",
        replyurl="http://v.example/r",
        replydays=replydays,
    )
    assert response.status_code == 200
    assert plain(response)["statuscode"] == "-1"
    assert smsgo_simulator.messages == []


def test_fifty_numbers_are_the_most_one_request_takes(call: Call) -> None:
    numbers = ",".join(f"09123456{i:02d}" for i in range(50))
    assert plain(call("sendsms.aspx", dstaddr=numbers, smbody="x"))["point"] == "50"


def test_a_number_given_twice_in_one_request_is_sent_once(call: Call) -> None:
    assert plain(call("sendsms.aspx", dstaddr="0912345678,0912345678", smbody="x"))["point"] == "1"


def test_not_enough_points_is_minus_8_and_nothing_is_charged(
    call: Call, smsgo_simulator: Simulator
) -> None:
    smsgo_simulator.add_account("poor", "pw", 2)
    three = "0912345678,0912345679,0912345670"
    answer = plain(call("sendsms.aspx", username="poor", password="pw", dstaddr=three, smbody="x"))
    assert answer["statuscode"] == "-8"
    assert smsgo_simulator.balance("poor") == 2
    two = "0912345678,0912345679"
    answer = plain(call("sendsms.aspx", username="poor", password="pw", dstaddr=two, smbody="x"))
    assert answer["statuscode"] == "0"
    assert smsgo_simulator.balance("poor") == 0


def test_ip_allow_list_refuses_other_addresses(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.add_account("locked", "pw", 10, allowed_ips=["10.9.9.9"])
    smsgo_simulator.add_account("open", "pw", 10, allowed_ips=["127.0.0.1"])
    send = {"password": "pw", "dstaddr": "0912345678", "smbody": "x"}
    assert plain(call("sendsms.aspx", username="locked", **send))["statuscode"] == "-2"
    assert plain(call("sendsms.aspx", username="open", **send))["statuscode"] == "0"


def test_closed_account_is_minus_6(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.state.put_account(Account("gone", "pw", 10, closed=True))
    answer = plain(
        call("sendsms.aspx", username="gone", password="pw", dstaddr="0912345678", smbody="x")
    )
    assert answer["statuscode"] == "-6"


@pytest.mark.parametrize(
    ("given", "stored"), [("PASCII", "PASCI"), ("LASCII", "LASCI"), (None, "BIG5")]
)
def test_encoding_spellings(
    call: Call, smsgo_simulator: Simulator, given: str | None, stored: str
) -> None:
    answer = plain(call("sendsms.aspx", dstaddr="0912345678", smbody="x", encoding=given))
    assert smsgo_simulator.message(answer["msgid"]).encoding == stored


@pytest.mark.parametrize(
    ("encoding", "text", "sent_length", "points"),
    [
        ("ASCII", "a" * 160, 160, 1),
        ("ASCII", "a" * 161, 160, 1),
        ("BIG5", "a" * 200, 160, 1),
        ("BIG5", CJK * 70, 70, 1),
        ("BIG5", CJK * 71, 70, 1),
        ("UCS2", "a" * 69 + CJK * 2, 70, 1),
        ("PBIG5", CJK * 100, 70, 1),
        ("PASCI", "a" * 170, 160, 1),
    ],
)
def test_single_sms_is_cut_silently_and_recorded(
    call: Call, smsgo_simulator: Simulator, encoding: str, text: str, sent_length: int, points: int
) -> None:
    answer = plain(call("sendsms.aspx", dstaddr="0912345678", smbody=text, encoding=encoding))
    assert answer["statuscode"] == "0"
    assert answer["point"] == str(points)
    message = smsgo_simulator.message(answer["msgid"])
    assert message.body == text[:sent_length]
    assert message.truncated is (len(text) > sent_length)
    truncations = smsgo_simulator.state.audit.truncations
    assert len(truncations) == (1 if len(text) > sent_length else 0)


@pytest.mark.parametrize(
    ("encoding", "text", "segments"),
    [
        ("LBIG5", CJK * 70, 1),
        ("LBIG5", CJK * 71, 2),
        ("LBIG5", CJK * 134, 2),
        ("LBIG5", CJK * 135, 3),
        ("LUCS2", CJK * 330, 5),
        ("LASCI", "a" * 160, 1),
        ("LASCI", "a" * 161, 2),
        ("LASCI", "a" * 306, 2),
        ("LASCI", "a" * 307, 3),
        ("LASCI", "a" * 330, 3),
    ],
)
def test_long_sms_is_charged_per_segment_per_number(
    call: Call, encoding: str, text: str, segments: int
) -> None:
    answer = plain(
        call("sendsms.aspx", dstaddr="0912345678,0922345678", smbody=text, encoding=encoding)
    )
    assert answer["point"] == str(2 * segments)


def test_long_sms_over_330_characters_is_cut_at_330(call: Call, smsgo_simulator: Simulator) -> None:
    answer = plain(call("sendsms.aspx", dstaddr="0912345678", smbody=CJK * 340, encoding="LBIG5"))
    message = smsgo_simulator.message(answer["msgid"])
    assert message.body == CJK * 330
    assert message.truncated


@pytest.mark.parametrize(
    ("smbody", "wapurl", "points", "long"),
    [
        ("t" * 68, WAPURL, 1, False),  # 68 + 20 = 88 bytes
        ("t" * 69, WAPURL, 1, True),  # 89 bytes: a long SMS of one segment
        (CJK * 22 + "tt", WAPURL, 1, False),  # 66 + 2 + 20 = 88 bytes
        (CJK * 23, WAPURL, 1, True),  # 69 + 20 = 89 bytes
        (CJK * 60, WAPURL, 2, True),  # 80 characters with CJK: 2 segments of 67
    ],
)
def test_push_over_88_bytes_becomes_a_long_sms(
    call: Call, smsgo_simulator: Simulator, smbody: str, wapurl: str, points: int, long: bool
) -> None:
    answer = plain(
        call("sendsms.aspx", dstaddr="0912345678", smbody=smbody, wapurl=wapurl, encoding="PUSH")
    )
    assert answer["point"] == str(points)
    message = smsgo_simulator.message(answer["msgid"])
    assert message.pushed_to_long is long
    assert message.wapurl == wapurl


@pytest.mark.parametrize(("numbers", "points"), [(1, 2), (10, 11), (11, 13), (20, 22)])
def test_replyurl_costs_one_point_per_ten_sms(call: Call, numbers: int, points: int) -> None:
    dstaddr = ",".join(f"09123456{i:02d}" for i in range(numbers))
    answer = plain(call("sendsms.aspx", dstaddr=dstaddr, smbody="x", replyurl="http://v.example/r"))
    assert answer["point"] == str(points)


def test_replyurl_of_300_characters_is_accepted(call: Call, smsgo_simulator: Simulator) -> None:
    url = "http://v.example/" + "r" * 283
    assert len(url) == 300
    answer = plain(
        call("sendsms.aspx", dstaddr="0912345678", smbody="x", replyurl=url, replydays="30")
    )
    message = smsgo_simulator.message(answer["msgid"])
    assert (message.replyurl, message.replydays) == (url, 30)


def test_password_never_reaches_the_audit(call: Call, smsgo_simulator: Simulator) -> None:
    call("sendsms.aspx", dstaddr="0912345678", smbody="x")
    call("query_point.asp")
    audit = smsgo_simulator.requests
    assert [entry["params"]["password"] for entry in audit] == ["***", "***"]
    assert PASSWORD not in repr(smsgo_simulator.state.snapshot())
    assert PASSWORD not in repr(smsgo_simulator.state.accounts)


def test_the_documents_push_example_with_raw_bytes_is_accepted(
    smsgo_simulator: Simulator,
) -> None:
    # The PUSH example's smbody is not UTF-8 ("convert it yourself"): bytes are kept.
    query = (
        f"username={USERNAME}&password={PASSWORD}&dstaddr=0939000012&encoding=PUSH"
        "&smbody=%7c%21%8a%0a%00%23%00%40&wapurl=www.test.com"
    )
    response = requests.get(f"{smsgo_simulator.base_url}sendsms.aspx?{query}", timeout=10)
    assert OK_ANSWER.fullmatch(response.text)
    [message] = smsgo_simulator.messages
    assert message.smbody.encode("utf-8", "surrogateescape") == b"|!\x8a\n\x00#\x00@"
    audit = requests.get(smsgo_simulator.admin_url + "audit", timeout=10)
    assert audit.status_code == 200
    assert audit.json()["requests"][0]["params"]["smbody"] == "|!\udc8a\n\x00#\x00@"


def test_junk_bytes_in_a_number_are_echoed_not_a_crash(
    call: Call, smsgo_simulator: Simulator
) -> None:
    response = requests.get(
        f"{smsgo_simulator.base_url}query.asp?username={USERNAME}&password={PASSWORD}"
        "&msgid=1&dstaddr=09%ff",
        timeout=10,
    )
    # Not a number at all: -5, the bytes echoed as they came.
    assert response.content == "-5|B Number違反規則|".encode() + b"09\xff"

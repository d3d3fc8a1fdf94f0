"""The five endpoints against a real HTTP server on loopback: what is sent, what is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer

from django_smsgo import __version__
from django_smsgo.client import CancelResult, DeliveryStatus, SendResult
from django_smsgo.exceptions import (
    AuthorizationError,
    GatewayError,
    InsufficientPointsError,
    ReceiverNumberError,
    UnparsableAnswerError,
)
from tests.client.conftest import BASE, PASSWORD, USERNAME, KeepAliveServer, base_url

SEND_OK = b"msgid=100101121234567\nstatuscode=0\nstatusstr=OK\npoint=1\n"


def only_request(server: HTTPServer):
    assert len(server.log) == 1, f"expected exactly one request, got {len(server.log)}"
    return server.log[0][0]


def test_send_sends_every_parameter_and_reads_the_plain_answer(primary, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    client = make_client(base_url(primary))
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    result = client.send(
        ["0912-345-678", "+8613681912700"],
        "簡訊測試",
        dlvtime=when,
        replyurl="https://example.com/smsgo/reply/1/abc/",
        replydays=5,
        response="https://example.com/smsgo/report/1/abc/",
    )

    assert result == SendResult(
        msgid="100101121234567",
        statuscode=0,
        statusstr="OK",
        points=1,
        numbers=("0912345678", "+8613681912700"),
        encoding="BIG5",
        api_url=base_url(primary),
    )
    request = only_request(primary)
    args = request.args
    assert args["username"] == USERNAME
    assert args["password"] == PASSWORD
    assert args["dstaddr"] == "0912345678,+8613681912700"
    assert args["smbody"] == "簡訊測試"
    assert "smbdy" not in args
    assert args["encoding"] == "BIG5"
    assert args["dlvtime"] == "2030/01/02 11:04:05"  # UTC+8
    assert args["replydays"] == "5"
    assert args["response"] == "https://example.com/smsgo/report/1/abc/"
    assert "rtype" not in args
    assert "%2B8613681912700" in request.query_string.decode()
    assert request.headers["User-Agent"] == f"django-smsgo/{__version__}"
    assert request.method == "GET"


def test_send_without_options_sends_none_of_them(primary, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    make_client(base_url(primary)).send("0912345678", "hello")
    args = only_request(primary).args
    assert set(args) == {"username", "password", "dstaddr", "encoding", "smbody"}
    assert args["encoding"] == "ASCII"


@pytest.mark.parametrize(
    "body",
    [
        b"msgid= 100101121234567  \r\n statuscode=0 \r\nstatusstr=OK\r\npoint=1",
        b'{"result":{"msgid":100101121234567,"statuscode":"0","statusstr":"OK","point":1}}',
        b"<?xml version='1.0'?><result><msgid>100101121234567</msgid>"
        b"<statuscode>0</statuscode><statusstr>OK</statusstr><point>1</point></result>",
        b"msgid=100101121234567&statuscode=0&statusstr=OK&point=1",
        b"\xef\xbb\xbfmsgid=100101121234567\nstatuscode=0\nstatusstr=OK\npoint=1\n",
    ],
    ids=["stray-spaces-crlf", "json", "xml", "ampersands", "bom"],
)
def test_send_reads_every_answer_format_whatever_was_asked(primary, make_client, body):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(body)
    result = make_client(base_url(primary)).send("0912345678", "hi")
    assert (result.msgid, result.statuscode, result.points) == ("100101121234567", 0, 1)


def test_json_msgid_keeps_every_digit(primary, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(
        b'{"result":{"msgid":9007199254740993123,"statuscode":"0","statusstr":"OK","point":2}}'
    )
    result = make_client(base_url(primary)).send("0912345678", "hi")
    assert result.msgid == "9007199254740993123"


CODES = [
    (-1, "CGI string error!!", "CgiStringError"),
    (-2, "Authorization error", "AuthorizationError"),
    (-3, "Priority error", "PriorityError"),
    (-4, "A Number violation", "SenderNumberError"),
    (-5, "B Number violation", "ReceiverNumberError"),
    (-6, "Closed User", "ClosedUserError"),
    (-7, "Invalid Encoding", "GatewayEncodingError"),
    (-8, "Not enough points", "InsufficientPointsError"),
    (-9, "Invalid msisdn amount", "TooManyNumbersGatewayError"),
    (-10, "Send Fail", "SendFailedError"),
]


@pytest.mark.parametrize(("code", "text", "name"), CODES)
def test_each_gateway_code_raises_its_class(primary, make_client, code, text, name):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(
        f"msgid=-1\nstatuscode={code}\nstatusstr={text}\npoint=0\n".encode()
    )
    with pytest.raises(GatewayError) as caught:
        make_client(base_url(primary)).send("0912345678", "hi")
    error = caught.value
    assert type(error).__name__ == name
    assert error.code == code
    assert error.gateway_text == text
    assert error.explanation
    assert error.explanation in str(error)
    assert error.permanent is (code != -10)
    assert len(primary.log) == 1


def test_unknown_negative_code_is_a_plain_gateway_error(primary, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(
        b"msgid=-1\nstatuscode=-42\nstatusstr=Strange\n"
    )
    with pytest.raises(GatewayError) as caught:
        make_client(base_url(primary)).send("0912345678", "hi")
    assert type(caught.value) is GatewayError
    assert caught.value.code == -42


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Server Error in '/sms_gw' Application.\xff\xfe</body></html>",
        b"",
        b"statuscode=0\nstatusstr=OK\n",  # success without a msgid
        b"msgid=abc\nstatuscode=0\n",
        b"msgid=1\nstatuscode=OK\n",
        b"just some words",
        b'{"result": {"msgid": 1, "statuscode": "0",',
    ],
    ids=["html", "empty", "no-msgid", "bad-msgid", "bad-code", "words", "broken-json"],
)
def test_an_unreadable_send_answer_is_uncertain(primary, make_client, body):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(body)
    with pytest.raises(UnparsableAnswerError) as caught:
        make_client(base_url(primary)).send("0912345678", "hi")
    assert caught.value.may_have_reached_gateway is True


def test_query_sends_the_pair_and_reads_pipes(primary, make_client):
    primary.expect_request(BASE + "query.asp").respond_with_data(b"0|DELIVRD|0912345678")
    status = make_client(base_url(primary)).query("100101121234567", "0912 345 678")
    assert status == DeliveryStatus(
        msgid="100101121234567",
        number="0912345678",
        statuscode=0,
        statusstr="DELIVRD",
        is_final=True,
    )
    assert status.is_delivered
    args = only_request(primary).args
    assert (args["msgid"], args["dstaddr"], args["password"]) == (
        "100101121234567",
        "0912345678",
        PASSWORD,
    )


def test_query_reads_the_documents_invalid_json(primary, make_client):
    primary.expect_request(BASE + "query.asp").respond_with_data(
        b'{"results":{"result":[{"statusCode": "0","statusStr":"DELIVRD",'
        b'"cellphone":"0988123456"},]}}'
    )
    status = make_client(base_url(primary)).query("1504280910499665", "0988123456")
    assert (status.statuscode, status.statusstr, status.number) == (0, "DELIVRD", "0988123456")
    assert status.msgid == "1504280910499665"


def test_query_keeps_a_non_final_state_verbatim(primary, make_client):
    primary.expect_request(BASE + "query.asp").respond_with_data(b"0|ENROUTE|0912345678\r\n")
    status = make_client(base_url(primary)).query("1", "0912345678")
    assert status.statusstr == "ENROUTE"
    assert status.is_final is False


def test_accepted_is_final_but_not_delivered(primary, make_client):
    primary.expect_request(BASE + "query.asp").respond_with_data(b"0|ACCEPTD|0912345678")
    status = make_client(base_url(primary)).query("1", "0912345678")
    assert status.is_final
    assert not status.is_delivered


def test_query_refused_by_the_gateway_raises(primary, make_client):
    primary.expect_request(BASE + "query.asp").respond_with_data(b"-2|Authorization error|")
    with pytest.raises(AuthorizationError):
        make_client(base_url(primary)).query("1", "0912345678")


@pytest.mark.parametrize("endpoint", ["query.asp", "queryBulk.asp"])
def test_a_wrong_password_refuses_a_query_even_when_the_row_names_the_number(
    primary, make_client, endpoint
):
    primary.expect_request(BASE + endpoint).respond_with_data(
        "-2|授權錯誤(帳號/密碼錯誤/IP錯誤)|0912345678|1".encode()
    )
    client = make_client(base_url(primary))
    ask = (
        (lambda: client.query("1", "0912345678"))
        if endpoint == "query.asp"
        else (lambda: client.query_bulk([("1", "0912345678")]))
    )
    with pytest.raises(AuthorizationError):
        ask()


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_query_bulk_reads_rows_with_stray_spaces(primary, make_client, newline):
    primary.expect_request(BASE + "queryBulk.asp").respond_with_data(
        newline.join(
            [
                b"0|DELIVRD|0912345678 |111",
                b" 0 | ENROUTE | 0912345679 | 111 ",
                b"0|UNDELIV|+8613681912700|222",
            ]
        )
        + newline
    )
    pairs = [("111", "0912345678"), ("111", "0912345679"), ("222", "+8613681912700")]
    statuses = make_client(base_url(primary)).query_bulk(pairs)
    assert [(s.msgid, s.number, s.statusstr, s.is_final) for s in statuses] == [
        ("111", "0912345678", "DELIVRD", True),
        ("111", "0912345679", "ENROUTE", False),
        ("222", "+8613681912700", "UNDELIV", True),
    ]
    args = only_request(primary).args
    assert args["msgid"] == "111,111,222"
    assert args["dstaddr"] == "0912345678,0912345679,+8613681912700"


def test_query_bulk_splits_into_requests_of_fifty(primary, make_client):
    def answer(request):
        from werkzeug import Response

        msgids = request.args["msgid"].split(",")
        numbers = request.args["dstaddr"].split(",")
        rows = [f"0|DELIVRD|{n}|{m}" for m, n in zip(msgids, numbers, strict=True)]
        return Response("\r\n".join(rows))

    primary.expect_request(BASE + "queryBulk.asp").respond_with_handler(answer)
    pairs = [(str(1000 + i), f"09123456{i % 100:02d}") for i in range(120)]
    statuses = make_client(base_url(primary)).query_bulk(pairs)
    assert [(s.msgid, s.number) for s in statuses] == pairs
    assert [len(entry[0].args["msgid"].split(",")) for entry in primary.log] == [50, 50, 20]


def test_query_bulk_json_rows_without_msgid_match_by_position(primary, make_client):
    primary.expect_request(BASE + "queryBulk.asp").respond_with_data(
        b'{"results":{"result":[{"statusCode":"0","statusStr":"DELIVRD","cellphone":"0912345678"},'
        b'{"statuscode":"0","statusstr":"EXPIRED","cellphone":"0912345679"}]}}'
    )
    statuses = make_client(base_url(primary)).query_bulk([("5", "0912345678"), ("6", "0912345679")])
    assert [(s.msgid, s.statusstr) for s in statuses] == [("5", "DELIVRD"), ("6", "EXPIRED")]


def test_query_bulk_of_nothing_sends_nothing(primary, make_client):
    assert make_client(base_url(primary)).query_bulk([]) == []
    assert primary.log == []


def test_balance_asks_for_json(primary, make_client):
    primary.expect_request(BASE + "query_point.asp").respond_with_data(
        b'{"results":{"result":[{"statuscode": "0","point": "6220"}]}}'
    )
    assert make_client(base_url(primary)).balance() == 6220
    args = only_request(primary).args
    assert args["rtype"] == "JSON"
    assert args["password"] == PASSWORD


@pytest.mark.parametrize(
    "body",
    [
        b"statuscode=0\nstatusstr=OK\npoint=42\n",
        b"<results><result><statuscode>0</statuscode><point>42</point></result></results>",
    ],
)
def test_balance_reads_other_formats_too(primary, make_client, body):
    primary.expect_request(BASE + "query_point.asp").respond_with_data(body)
    assert make_client(base_url(primary)).balance() == 42


def test_balance_error_raises(primary, make_client):
    primary.expect_request(BASE + "query_point.asp").respond_with_data(
        b'{"results":{"result":[{"statuscode":"-8","statusstr":"Not enough points","point":"0"}]}}'
    )
    with pytest.raises(InsufficientPointsError):
        make_client(base_url(primary)).balance()


def test_cancel_success_and_refusal(primary, make_client):
    primary.expect_oneshot_request(BASE + "sendsms_cancel.asp").respond_with_data(
        b"msgid=123\nstatuscode=0\nstatusstr=OK\n"
    )
    primary.expect_oneshot_request(BASE + "sendsms_cancel.asp").respond_with_data(
        b'{"result":{"msgid":123,"statuscode":"-1","statusstr":"Already sent"}}'
    )
    client = make_client(base_url(primary))
    assert client.cancel("123") == CancelResult("123", 0, "OK", cancelled=True)
    assert client.cancel(123) == CancelResult("123", -1, "Already sent", cancelled=False)
    assert [entry[0].args["msgid"] for entry in primary.log] == ["123", "123"]


def test_cancel_with_a_wrong_password_raises(primary, make_client):
    primary.expect_request(BASE + "sendsms_cancel.asp").respond_with_data(
        b"msgid=1\nstatuscode=-2\nstatusstr=Authorization error\n"
    )
    with pytest.raises(AuthorizationError):
        make_client(base_url(primary)).cancel("1")


def test_a_negative_row_for_one_number_is_a_status_not_an_error(primary, make_client):
    primary.expect_request(BASE + "queryBulk.asp").respond_with_data(
        b"0|DELIVRD|0912345678|1\r\n-5|B Number violation|0912345679|1"
    )
    statuses = make_client(base_url(primary)).query_bulk([("1", "0912345678"), ("1", "0912345679")])
    assert [(s.statuscode, s.is_final) for s in statuses] == [(0, True), (-5, False)]


def test_validation_error_sends_nothing(primary, make_client):
    client = make_client(base_url(primary))
    with pytest.raises(ValueError, match="0912"):
        client.send(["0912"], "hi")
    with pytest.raises(ValueError, match="past"):
        client.send(["0912345678"], "hi", dlvtime=datetime.now(UTC) - timedelta(hours=1))
    assert primary.log == []


def test_keep_alive_reuses_one_connection(make_client):
    server = KeepAliveServer(b"statuscode=0\npoint=7\n")
    try:
        client = make_client(server.url)
        assert [client.balance() for _ in range(3)] == [7, 7, 7]
    finally:
        server.close()
    assert len(server.ports) == 3
    assert len(set(server.ports)) == 1


def test_receiver_error_class_is_importable_by_code():
    assert isinstance(GatewayError.from_code(-5, "x"), ReceiverNumberError)

"""Phase Two (delivery reports with the acknowledgement and 3 re-tries) and replies."""

from __future__ import annotations

import re
import socket
import threading
from datetime import datetime, timedelta

import pytest
import requests

from django_smsgo.simulator import Simulator, SimulatorError
from django_smsgo.simulator.rules import TAIPEI

from .conftest import Call, Vendor, plain


def send(call: Call, **params: str) -> str:
    params.setdefault("dstaddr", "0912345678")
    params.setdefault("smbody", "hi")
    answer = plain(call("sendsms.aspx", **params))
    assert answer["statuscode"] == "0", answer
    return answer["msgid"]


def reports(simulator: Simulator, vendor: Vendor) -> list[dict[str, str]]:
    assert simulator.wait_for_callbacks()
    return vendor.received


def test_right_acknowledgement_is_one_attempt(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    msgid = send(call, response=vendor.url + "/smsgo/report/7/token/")
    assert reports(smsgo_simulator, vendor) == [
        {"msgid": msgid, "statuscode": "0", "statusstr": "DELIVRD", "dstaddr": "0912345678"}
    ]
    assert vendor.raw_paths == [
        f"/smsgo/report/7/token/?msgid={msgid}&statuscode=0&statusstr=DELIVRD&dstaddr=0912345678"
    ]
    attempts = smsgo_simulator.callbacks
    assert [(a["attempt"], a["acknowledged"]) for a in attempts] == [(1, True)]


@pytest.mark.parametrize(
    ("answer", "status", "content_type"),
    [
        (lambda q: b"magicid=tccrd_sms_gateway_rpack\nmsgid=1\n", 200, "text/plain"),
        (
            lambda q: f"magicid=tccrd_sms_gateway_rpack\nmsgid={q['msgid']}".encode(),
            200,
            "text/plain",
        ),
        (
            lambda q: f"magicid=tccrd_sms_gateway_rpack\r\nmsgid={q['msgid']}\r\n".encode(),
            200,
            "text/plain",
        ),
        (lambda q: f"magicid=other\nmsgid={q['msgid']}\n".encode(), 200, "text/plain"),
        (lambda q: b"OK", 200, "text/plain"),
        (
            lambda q: f"magicid=tccrd_sms_gateway_rpack\nmsgid={q['msgid']}\n".encode(),
            500,
            "text/plain",
        ),
        (
            lambda q: f"magicid=tccrd_sms_gateway_rpack\nmsgid={q['msgid']}\n".encode(),
            200,
            "text/html",
        ),
    ],
    ids=[
        "wrong-msgid",
        "no-final-newline",
        "crlf",
        "wrong-magic",
        "other-body",
        "http-500",
        "html",
    ],
)
def test_wrong_acknowledgement_is_four_attempts(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor, answer, status: int, content_type: str
) -> None:
    vendor.answer, vendor.status, vendor.content_type = answer, status, content_type
    msgid = send(call, response=vendor.url + "/r")
    received = reports(smsgo_simulator, vendor)
    assert len(received) == 4
    assert {r["msgid"] for r in received} == {msgid}
    attempts = smsgo_simulator.callbacks
    assert [(a["attempt"], a["acknowledged"]) for a in attempts] == [
        (1, False),
        (2, False),
        (3, False),
        (4, False),
    ]


@pytest.mark.parametrize("ending", ["", "\r\n"])
def test_lenient_ack_takes_a_missing_or_crlf_newline(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor, ending: str
) -> None:
    smsgo_simulator.state.config.lenient_ack = True
    vendor.answer = lambda q: (
        f"magicid=tccrd_sms_gateway_rpack{ending or chr(10)}msgid={q['msgid']}{ending}".encode()
    )
    send(call, response=vendor.url + "/r")
    assert len(reports(smsgo_simulator, vendor)) == 1


def test_unreachable_vendor_is_four_attempts_with_the_error(
    call: Call, smsgo_simulator: Simulator
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    send(call, response=f"http://127.0.0.1:{port}/r")
    assert smsgo_simulator.wait_for_callbacks()
    attempts = smsgo_simulator.callbacks
    assert len(attempts) == 4
    assert all(a["http_status"] is None and "Connection" in a["error"] for a in attempts)


def test_dstaddr_can_be_left_out(call: Call, smsgo_simulator: Simulator, vendor: Vendor) -> None:
    smsgo_simulator.state.config.include_dstaddr = False
    msgid = send(call, response=vendor.url + "/r")
    assert reports(smsgo_simulator, vendor) == [
        {"msgid": msgid, "statuscode": "0", "statusstr": "DELIVRD"}
    ]


def test_query_is_appended_literally_to_the_response_url(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    msgid = send(call, response=vendor.url + "/r?a=1")
    reports(smsgo_simulator, vendor)
    assert vendor.raw_paths[0].startswith(f"/r?a=1?msgid={msgid}&")


def test_each_receiver_gets_its_own_report(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    msgid = send(call, dstaddr="0912345678,0912345691,0912345699", response=vendor.url + "/r")
    received = reports(smsgo_simulator, vendor)
    assert sorted((r["dstaddr"], r["statusstr"]) for r in received) == [
        ("0912345678", "DELIVRD"),
        ("0912345691", "UNDELIV"),
    ]
    assert {r["msgid"] for r in received} == {msgid}


def test_no_response_no_report(call: Call, smsgo_simulator: Simulator, vendor: Vendor) -> None:
    send(call)
    assert reports(smsgo_simulator, vendor) == []
    assert len(smsgo_simulator.state.audit.deliveries) == 1


def test_a_slow_vendor_does_not_block_the_gateway(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    release = threading.Event()
    entered = threading.Event()

    def blocking(query: dict[str, str]) -> bytes:
        entered.set()
        release.wait(10)
        return f"magicid=tccrd_sms_gateway_rpack\nmsgid={query['msgid']}\n".encode()

    vendor.answer = blocking
    send(call, response=vendor.url + "/r")
    assert entered.wait(10)
    # The report is hanging in the vendor; the gateway still answers.
    assert plain(call("query_point.asp"))["statuscode"] == "0"
    release.set()
    assert len(reports(smsgo_simulator, vendor)) == 1


def test_reply_reaches_the_replyurl_utf8_encoded(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    msgid = send(call, replyurl=vendor.url + "/reply")
    smsgo_simulator.reply(msgid, "0912345678", "好的 STOP")
    received = reports(smsgo_simulator, vendor)
    assert len(received) == 1
    reply = received[0]
    assert reply | {"timestamp": ""} == {
        "msgid": msgid,
        "srcaddr": "0912345678",
        "dstaddr": smsgo_simulator.state.config.reply_dstaddr,
        "smbody": "好的 STOP",
        "encoding": "BIG5",
        "timestamp": "",
    }
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d", reply["timestamp"])
    stamp = datetime.strptime(reply["timestamp"], "%Y/%m/%d %H:%M:%S").replace(tzinfo=TAIPEI)
    assert abs(stamp - datetime.now(TAIPEI)) < timedelta(hours=1)  # Taipei, not UTC
    assert "smbody=%E5%A5%BD%E7%9A%84+STOP" in vendor.raw_paths[0]
    assert smsgo_simulator.replies[0]["http_status"] == 200


@pytest.mark.parametrize(("text", "encoding"), [("yes", "ASCII"), ("好", "BIG5"), ("😀", "UCS2")])
def test_reply_encoding(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor, text: str, encoding: str
) -> None:
    msgid = send(call, replyurl=vendor.url + "/reply")
    smsgo_simulator.reply(msgid, "0912345678", text)
    assert reports(smsgo_simulator, vendor)[0]["encoding"] == encoding


def test_reply_over_the_admin_api(call: Call, smsgo_simulator: Simulator, vendor: Vendor) -> None:
    msgid = send(call, replyurl=vendor.url + "/reply")
    answer = requests.post(
        smsgo_simulator.admin_url + "reply",
        json={"msgid": msgid, "srcaddr": "0912345678", "smbody": "ok"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert reports(smsgo_simulator, vendor)[0]["smbody"] == "ok"


def test_reply_refusals(call: Call, smsgo_simulator: Simulator, vendor: Vendor) -> None:
    without = send(call)
    with pytest.raises(SimulatorError, match="without a replyurl"):
        smsgo_simulator.reply(without, "0912345678", "x")
    msgid = send(call, replyurl=vendor.url + "/reply", replydays="1")
    with pytest.raises(SimulatorError, match="not a receiver"):
        smsgo_simulator.reply(msgid, "0922222222", "x")
    smsgo_simulator.state.move_clock(86400 + 1)
    with pytest.raises(SimulatorError, match="1 days only"):
        smsgo_simulator.reply(msgid, "0912345678", "x")
    answer = requests.post(
        smsgo_simulator.admin_url + "reply",
        json={"msgid": "1", "srcaddr": "0912345678", "smbody": "x"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "unknown" in answer.json()["error"]
    assert vendor.received == []

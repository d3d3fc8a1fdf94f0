"""Where the document is silent: each decision's default, and the option for the other choice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from django_smsgo.simulator import Simulator, SimulatorConfig
from django_smsgo.simulator.rules import TAIPEI

from .conftest import Call, Vendor, plain


def send(call: Call, **params: str) -> str:
    params.setdefault("dstaddr", "0912345678")
    params.setdefault("smbody", "hi")
    answer = plain(call("sendsms.aspx", **params))
    assert answer["statuscode"] == "0", answer
    return answer["msgid"]


def tomorrow() -> str:
    return (datetime.now(TAIPEI) + timedelta(days=1)).strftime("%Y/%m/%d %H:%M:%S")


def admin_config(simulator: Simulator, **settings: object) -> requests.Response:
    return requests.post(simulator.admin_url + "config", json=settings, timeout=10)


# -- content types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rtype", "content_type"),
    [(None, "text/plain"), ("JSON", "application/json"), ("XML", "text/xml")],
)
def test_content_type_follows_the_format_by_default(
    call: Call, rtype: str | None, content_type: str
) -> None:
    response = call("query_point.asp", rtype=rtype)
    assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8"


def test_one_content_type_for_every_answer_on_request(
    call: Call, smsgo_simulator: Simulator
) -> None:
    assert admin_config(smsgo_simulator, content_type="text/html").ok
    for rtype in (None, "JSON", "XML"):
        assert call("query_point.asp", rtype=rtype).headers["Content-Type"] == "text/html"


@pytest.mark.parametrize("value", ["text/html\r\nX-Injected: 1", "text/\x00html", "ｔｅｘｔ/html"])
def test_a_content_type_that_cannot_be_a_header_is_refused(
    smsgo_simulator: Simulator, value: str
) -> None:
    refused = admin_config(smsgo_simulator, content_type=value)
    assert refused.status_code == 400
    assert "content_type" in refused.json()["error"]
    assert smsgo_simulator.state.config.content_type == ""


# -- rtype in lower case -------------------------------------------------------------------


def test_rtype_in_any_case_by_default(call: Call) -> None:
    assert (
        call("query_point.asp", rtype="json").headers["Content-Type"].startswith("application/json")
    )


def test_rtype_case_sensitive_on_request(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.state.config.rtype_case_sensitive = True
    assert call("query_point.asp", rtype="json").text.startswith("statuscode=0\n")
    assert call("query_point.asp", rtype="JSON").text.startswith('{"results"')


# -- states before final ---------------------------------------------------------------------


@pytest.fixture
def smsgo_simulator_config() -> SimulatorConfig:
    return SimulatorConfig(delivery_delay=3600, callback_retry_delay=0)


def test_states_before_final_can_be_renamed(call: Call, smsgo_simulator: Simulator) -> None:
    scheduled = send(call, dlvtime=tomorrow())
    due = send(call)
    assert call("query.asp", msgid=scheduled).text == "0|SCHEDULED|0912345678"
    assert call("query.asp", msgid=due).text == "0|ENROUTE|0912345678"
    assert admin_config(smsgo_simulator, scheduled_state="ACCEPTED", enroute_state="").ok
    assert call("query.asp", msgid=scheduled).text == "0|ACCEPTED|0912345678"
    assert call("query.asp", msgid=due).text == "0||0912345678"


def test_a_state_name_with_a_separator_is_refused(smsgo_simulator: Simulator) -> None:
    refused = admin_config(smsgo_simulator, enroute_state="EN|ROUTE")
    assert refused.status_code == 400
    assert "enroute_state" in refused.json()["error"]


# -- the statuscode of a failed report ----------------------------------------------------------


def test_failed_reports_carry_statuscode_0_by_default_or_the_code_chosen(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    send(call, dstaddr="0912345678,0912345691", response=vendor.url + "/r")
    smsgo_simulator.advance()
    assert smsgo_simulator.wait_for_callbacks()
    assert sorted((r["statusstr"], r["statuscode"]) for r in vendor.received) == [
        ("DELIVRD", "0"),
        ("UNDELIV", "0"),
    ]
    vendor.received.clear()
    smsgo_simulator.state.config.report_failure_statuscode = -1
    send(call, dstaddr="0912345600,0912345692", response=vendor.url + "/r")
    smsgo_simulator.advance()
    assert smsgo_simulator.wait_for_callbacks()
    assert sorted((r["statusstr"], r["statuscode"]) for r in vendor.received) == [
        ("ABSENT", "-1"),
        ("DELIVRD", "0"),
    ]


# -- cancelled sends and their reports ---------------------------------------------------------


def test_a_cancelled_send_is_not_reported_by_default(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    msgid = send(call, dlvtime=tomorrow(), response=vendor.url + "/r")
    assert plain(call("sendsms_cancel.asp", msgid=msgid))["statuscode"] == "0"
    smsgo_simulator.advance(2 * 86400)
    assert smsgo_simulator.wait_for_callbacks()
    assert vendor.received == []


def test_a_cancelled_send_reported_as_deleted_on_request(
    call: Call, smsgo_simulator: Simulator, vendor: Vendor
) -> None:
    smsgo_simulator.state.config.report_cancelled = True
    msgid = send(call, dstaddr="0912345678,0922345678", dlvtime=tomorrow(), response=vendor.url)
    assert plain(call("sendsms_cancel.asp", msgid=msgid))["statuscode"] == "0"
    assert smsgo_simulator.wait_for_callbacks()
    assert sorted((r["dstaddr"], r["statusstr"], r["msgid"]) for r in vendor.received) == [
        ("0912345678", "DELETED", msgid),
        ("0922345678", "DELETED", msgid),
    ]
    assert smsgo_simulator.state.audit.deliveries == []


# -- the answer of a refused cancel -------------------------------------------------------------


def test_a_refused_cancel_echoes_the_msgid_by_default(call: Call) -> None:
    assert call("sendsms_cancel.asp", msgid="123456789012345").text == (
        "msgid=123456789012345\nstatuscode=-1\nstatusstr=CGI string error or Unknow\n"
    )


def test_a_refused_cancel_can_answer_the_code_in_msgid_like_a_send(
    call: Call, smsgo_simulator: Simulator
) -> None:
    assert admin_config(smsgo_simulator, cancel_error_msgid="code").ok
    assert call("sendsms_cancel.asp", msgid="123456789012345", password="x").text == (
        "msgid=-2\nstatuscode=-2\nstatusstr=授權錯誤(帳號/密碼錯誤/IP錯誤)\n"
    )
    assert call("sendsms_cancel.asp", msgid="123456789012345", rtype="JSON").json() == {
        "result": {"msgid": -1, "statuscode": "-1", "statusstr": "CGI string error or Unknow"}
    }
    refused = admin_config(smsgo_simulator, cancel_error_msgid="zero")
    assert refused.status_code == 400
    assert "'echo' or 'code'" in refused.json()["error"]

"""The admin API, the audit, the duplicates figure and the server's keep-alive connections."""

from __future__ import annotations

import json
import logging
import socket

import pytest
import requests

from django_smsgo.simulator import Simulator

from .conftest import PASSWORD, POINTS, USERNAME, Call, plain


def admin(
    simulator: Simulator, route: str, method: str = "GET", **body: object
) -> requests.Response:
    return requests.request(method, simulator.admin_url + route, json=body or None, timeout=10)


def send(call: Call, dstaddr: str = "0912345678", smbody: str = "hi", **params: str) -> str:
    answer = plain(call("sendsms.aspx", dstaddr=dstaddr, smbody=smbody, **params))
    assert answer["statuscode"] == "0", answer
    return answer["msgid"]


def test_state_shows_balances_and_figures_without_passwords(
    call: Call, smsgo_simulator: Simulator
) -> None:
    send(call, dstaddr="0912345678,0922345678")
    state = admin(smsgo_simulator, "state")
    assert state.status_code == 200
    data = state.json()
    assert data["accounts"] == [
        {"username": USERNAME, "points": POINTS - 2, "allowed_ips": [], "closed": False}
    ]
    assert (data["messages"], data["receivers"], data["final"]) == (1, 2, 2)
    assert PASSWORD not in state.text


def test_audit_keeps_requests_deliveries_and_callbacks_redacted(
    call: Call, smsgo_simulator: Simulator
) -> None:
    msgid = send(call)
    smsgo_simulator.wait_for_callbacks()
    audit = admin(smsgo_simulator, "audit")
    assert PASSWORD not in audit.text
    data = audit.json()
    [request] = data["requests"]
    assert request["params"] == {
        "username": USERNAME,
        "password": "***",
        "dstaddr": "0912345678",
        "smbody": "hi",
    }
    assert (request["endpoint"], request["statuscode"], str(request["msgid"])) == (
        "sendsms.aspx",
        0,
        msgid,
    )
    assert [(str(d["msgid"]), d["status"]) for d in data["deliveries"]] == [(msgid, "DELIVRD")]
    assert admin(smsgo_simulator, "audit?kind=deliveries").json().keys() == {"deliveries"}
    assert admin(smsgo_simulator, "audit?kind=nope").status_code == 400


def test_refused_requests_are_audited_with_their_reason(
    call: Call, smsgo_simulator: Simulator
) -> None:
    call("sendsms.aspx", dstaddr="0812345678", smbody="x")
    [request] = smsgo_simulator.requests
    assert request["statuscode"] == -5
    assert "0812345678" in request["reason"]


def test_duplicates_count_number_and_body_pairs_accepted_twice(
    call: Call, smsgo_simulator: Simulator
) -> None:
    send(call, dstaddr="0912345678,0922345678", smbody="same")
    assert smsgo_simulator.duplicates() == {"pairs": 0, "extra_sends": 0}
    send(call, dstaddr="0912345678", smbody="other")
    assert smsgo_simulator.duplicates() == {"pairs": 0, "extra_sends": 0}
    send(call, dstaddr="0912345678", smbody="same")
    send(call, dstaddr="0912345678", smbody="same")
    assert smsgo_simulator.duplicates() == {"pairs": 1, "extra_sends": 2}
    assert admin(smsgo_simulator, "state").json()["duplicates"] == {"pairs": 1, "extra_sends": 2}


def test_a_cancelled_send_is_not_a_duplicate(call: Call, smsgo_simulator: Simulator) -> None:
    first = send(call, smbody="same", dlvtime="2099/01/01 00:00:00")
    send(call, smbody="same")
    assert smsgo_simulator.duplicates()["pairs"] == 1
    assert plain(call("sendsms_cancel.asp", msgid=first))["statuscode"] == "0"
    assert smsgo_simulator.duplicates()["pairs"] == 0


def test_keep_alive_reuses_one_connection(smsgo_simulator: Simulator) -> None:
    with requests.Session() as session:
        for _ in range(5):
            session.get(smsgo_simulator.base_url + "query_point.asp", timeout=10)
    assert smsgo_simulator.state.connections_opened == 1
    with requests.Session() as session:
        session.get(smsgo_simulator.base_url + "query_point.asp", timeout=10)
    assert admin(smsgo_simulator, "state").json()["connections_opened"] == 3


def test_two_requests_on_one_raw_http11_connection(smsgo_simulator: Simulator) -> None:
    request = (
        f"GET /sms_gw/query_point.asp?username={USERNAME}&password={PASSWORD} HTTP/1.1\r\n"
        "Host: x\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", smsgo_simulator.server.port), timeout=10) as sock:
        sock.sendall(request + request)
        received = b""
        while received.count(b"point=") < 2:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert smsgo_simulator.state.connections_opened == 1


def test_connection_close_is_honoured(smsgo_simulator: Simulator) -> None:
    with socket.create_connection(("127.0.0.1", smsgo_simulator.server.port), timeout=10) as sock:
        sock.sendall(
            b"GET /sms_gw/query_point.asp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert b"Connection: close" in received
    assert received.endswith(b"point=0\n")


def test_accounts_are_created_and_topped_up(call: Call, smsgo_simulator: Simulator) -> None:
    created = admin(smsgo_simulator, "accounts", "POST", username="new", password="pw", points=1)
    assert created.json()["account"] == {
        "username": "new",
        "points": 1,
        "allowed_ips": [],
        "closed": False,
    }
    assert (
        admin(smsgo_simulator, "accounts", "POST", username="new", add_points=4).json()["account"][
            "points"
        ]
        == 5
    )
    answer = plain(call("query_point.asp", username="new", password="pw"))
    assert answer["point"] == "5"
    missing = admin(smsgo_simulator, "accounts", "POST", username="nopass", points=1)
    assert missing.status_code == 400
    assert "password" in missing.json()["error"]
    assert "pw" not in admin(smsgo_simulator, "accounts").text


def test_outcomes_are_set_listed_and_validated(call: Call, smsgo_simulator: Simulator) -> None:
    assert admin(smsgo_simulator, "outcomes", "POST", number="0912345678", status="BLOCK").ok
    bad = admin(smsgo_simulator, "outcomes", "POST", number="0912345678", status="GONE")
    assert bad.status_code == 400
    assert "'GONE'" in bad.json()["error"]
    assert admin(smsgo_simulator, "outcomes").json()["outcomes"] == {"0912345678": "BLOCK"}
    msgid = send(call)
    smsgo_simulator.advance()
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|BLOCK|0912345678"
    admin(smsgo_simulator, "outcomes", "POST", clear=True)
    assert smsgo_simulator.state.outcome_overrides == {}


def test_advance_and_reset(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.state.config.delivery_delay = 3600
    msgid = send(call, dlvtime="2099/01/01 00:00:00")
    assert admin(smsgo_simulator, "advance", "POST").json()["finished"] == 0
    far = admin(smsgo_simulator, "advance", "POST", seconds=100 * 365 * 86400)
    assert far.json()["finished"] == 1
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|DELIVRD|0912345678"
    assert admin(smsgo_simulator, "reset", "POST").json() == {"reset": True}
    state = smsgo_simulator.state.snapshot()
    assert (state["messages"], state["accounts"][0]["points"]) == (0, POINTS)


def test_config_changes_and_refuses_unknown_settings(smsgo_simulator: Simulator) -> None:
    changed = admin(smsgo_simulator, "config", "POST", delivery_delay=5, include_dstaddr=False)
    assert changed.json()["config"]["delivery_delay"] == 5.0
    assert smsgo_simulator.state.config.include_dstaddr is False
    assert admin(smsgo_simulator, "config", "POST", colour="red").status_code == 400
    assert admin(smsgo_simulator, "config", "POST", delivery_delay="soon").status_code == 400


@pytest.mark.parametrize(
    ("route", "method", "status"),
    [("nothing", "GET", 404), ("faults", "GET", 405), ("state", "POST", 405)],
)
def test_unknown_admin_calls(
    smsgo_simulator: Simulator, route: str, method: str, status: int
) -> None:
    assert admin(smsgo_simulator, route, method).status_code == status


def test_bad_json_body_is_400(smsgo_simulator: Simulator) -> None:
    answer = requests.post(smsgo_simulator.admin_url + "advance", data=b"{nope", timeout=10)
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["error"]


def test_wait_reports_idle(smsgo_simulator: Simulator) -> None:
    assert admin(smsgo_simulator, "wait", "POST").json() == {"idle": True}


def test_messages_listing(call: Call, smsgo_simulator: Simulator) -> None:
    msgid = send(call, smbody="a" * 200, encoding="ASCII")
    send(call, smbody="other")
    [listed] = admin(smsgo_simulator, f"messages?msgid={msgid}").json()["messages"]
    assert listed["truncated"] is True
    assert len(listed["body"]) == 160
    assert len(admin(smsgo_simulator, "messages").json()["messages"]) == 2


def test_request_log_hides_the_password(
    call: Call, smsgo_simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="django_smsgo.simulator"):
        call("query_point.asp")
        call("sendsms.aspx", method="POST", dstaddr="0912345678", smbody="x")
    assert "query_point.asp" in caplog.text
    assert "password=***" in caplog.text
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        ("advance", {"seconds": 1e309}, "'seconds' must be a finite number"),
        ("advance", {"seconds": "nan"}, "'seconds' must be a finite number"),
        ("accounts", {"username": "u", "password": "p", "points": 1e400}, "'points' must be"),
        ("accounts", {"username": "u", "password": "p", "allowed_ips": 7}, "'allowed_ips'"),
        ("reply", {"msgid": "²", "srcaddr": "0912345678", "smbody": "x"}, "ASCII digits"),
        ("config", {"delivery_delay": "inf"}, "'delivery_delay' inf must be a finite"),
        ("config", {"callback_attempts": 0}, "'callback_attempts' 0 must be at least 1"),
        ("config", {"audit_limit": 1e400}, "'audit_limit' must be int"),
    ],
)
def test_admin_input_is_a_400_that_names_the_rule_never_a_500(
    smsgo_simulator: Simulator, route: str, body: dict[str, object], message: str
) -> None:
    answer = requests.post(
        smsgo_simulator.admin_url + route,
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]


def test_a_bad_setting_changes_no_setting(smsgo_simulator: Simulator) -> None:
    bad = admin(smsgo_simulator, "config", "POST", strict_json=True, cancel_error_msgid="x")
    assert bad.status_code == 400
    assert smsgo_simulator.state.config.strict_json is False


def test_a_content_length_that_is_no_number_is_a_400(smsgo_simulator: Simulator) -> None:
    with socket.create_connection(("127.0.0.1", smsgo_simulator.server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /sms_gw/query_point.asp HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400")

"""Fault injection: each kind, per endpoint, next N or until cleared, from Python and over HTTP."""

from __future__ import annotations

import json

import pytest
import requests

from django_smsgo.simulator import Fault, Simulator
from django_smsgo.simulator.faults import FaultError

from .conftest import POINTS, USERNAME, Call, plain


def send(call: Call, smbody: str = "hi") -> requests.Response:
    return call("sendsms.aspx", dstaddr="0912345678", smbody=smbody)


def test_http_500_is_not_carried_out(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("http500", "sendsms.aspx")
    assert send(call).status_code == 500
    assert smsgo_simulator.messages == []
    assert smsgo_simulator.balance(USERNAME) == POINTS
    assert plain(send(call))["statuscode"] == "0"


def test_http_500_after_carrying_out(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("http500", "sendsms.aspx", accept=True)
    assert send(call).status_code == 500
    assert len(smsgo_simulator.messages) == 1
    assert smsgo_simulator.balance(USERNAME) == POINTS - 1


def test_forced_code_for_the_next_two_requests(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("code", "sendsms.aspx", count=2, code=-10)
    for _ in range(2):
        assert send(call).text == "msgid=-10\nstatuscode=-10\nstatusstr=Send Fail\npoint=0\n"
    assert smsgo_simulator.messages == []
    assert plain(send(call))["statuscode"] == "0"


@pytest.mark.parametrize("code", [-3, -4, -6])
def test_forced_codes_in_json(call: Call, smsgo_simulator: Simulator, code: int) -> None:
    smsgo_simulator.fault("code", code=code)
    data = call("sendsms.aspx", dstaddr="0912345678", smbody="x", rtype="JSON").json()
    assert data["result"]["statuscode"] == str(code)
    assert data["result"]["msgid"] == code


def test_forced_code_on_a_query(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("code", "query.asp", code=-1)
    assert call("query.asp", msgid="1", dstaddr="0912345678").text == "-1|CGI string error!!|"


def test_dropped_connection_after_the_send_was_accepted(
    call: Call, smsgo_simulator: Simulator
) -> None:
    smsgo_simulator.fault("drop", "sendsms.aspx")
    with pytest.raises(requests.ConnectionError):
        send(call)
    # Charged and on its way: exactly the case a client must not re-send blindly.
    [message] = smsgo_simulator.messages
    assert smsgo_simulator.balance(USERNAME) == POINTS - 1
    smsgo_simulator.advance()
    assert message.receivers["0912345678"].status == "DELIVRD"
    assert smsgo_simulator.requests[0]["fault"] == "drop"


def test_garbage_answer_parses_as_nothing(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("garbage")
    response = call("sendsms.aspx", dstaddr="0912345678", smbody="x", rtype="JSON")
    assert response.status_code == 200
    assert "statuscode" not in response.text
    with pytest.raises(UnicodeDecodeError):  # not even UTF-8, let alone JSON
        json.loads(response.content)
    assert len(smsgo_simulator.messages) == 1


def test_slow_answer_times_the_client_out_but_is_carried_out(
    call: Call, smsgo_simulator: Simulator
) -> None:
    smsgo_simulator.fault("slow", "sendsms.aspx", seconds=2)
    session = requests.Session()
    with pytest.raises(requests.ReadTimeout):
        session.get(
            smsgo_simulator.base_url + "sendsms.aspx",
            params={
                "username": USERNAME,
                "password": "vendor-Pa55word",
                "dstaddr": "0912345678",
                "smbody": "x",
            },
            timeout=(5, 0.2),
        )
    assert len(smsgo_simulator.messages) == 1


def test_fault_aims_at_one_endpoint(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("http500", "query_point.asp")
    assert plain(send(call))["statuscode"] == "0"
    assert call("query_point.asp").status_code == 500
    assert call("query_point.asp").status_code == 200


def test_fault_until_cleared(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("http500", count=None)
    assert [call("query_point.asp").status_code for _ in range(3)] == [500, 500, 500]
    smsgo_simulator.clear_faults()
    assert call("query_point.asp").status_code == 200


def test_latency_is_never_used_up(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.fault("latency", seconds=0.01)
    smsgo_simulator.fault("http500", "query_point.asp")
    assert call("query_point.asp").status_code == 500
    assert call("query_point.asp").status_code == 200
    assert [f["kind"] for f in smsgo_simulator.state.faults.public()] == ["latency"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "explode"}, "'explode' is not one of"),
        ({"kind": "http500", "endpoint": "x.asp"}, "'x.asp' is not"),
        ({"kind": "http500", "count": 0}, "count 0 must be at least 1"),
        ({"kind": "code", "code": 5}, "code 5 must be a table-1 error"),
        ({"kind": "slow", "seconds": -1}, "seconds -1.0 must not be negative"),
        ({"kind": "slow", "colour": "red"}, "unknown fault field"),
        ({"endpoint": "*"}, "needs a 'kind'"),
    ],
)
def test_bad_faults_are_refused_with_a_reason(fields: dict[str, object], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        Fault.from_json(fields)


def test_faults_over_the_admin_api(call: Call, smsgo_simulator: Simulator) -> None:
    url = smsgo_simulator.admin_url + "faults"
    added = requests.post(
        url, json={"kind": "code", "code": -10, "endpoint": "sendsms.aspx", "count": 1}, timeout=10
    )
    assert added.status_code == 200
    assert added.json()["faults"][0]["code"] == -10
    assert plain(send(call))["statuscode"] == "-10"
    requests.post(url, json={"kind": "http500", "count": None}, timeout=10)
    assert send(call).status_code == 500
    assert requests.delete(url, timeout=10).json() == {"faults": []}
    assert plain(send(call))["statuscode"] == "0"
    bad = requests.post(url, json={"kind": "explode"}, timeout=10)
    assert bad.status_code == 400
    assert "explode" in bad.json()["error"]


def test_refused_connections_then_resume_on_the_same_port(
    call: Call, smsgo_simulator: Simulator
) -> None:
    assert plain(send(call))["statuscode"] == "0"  # a pooled connection now exists
    port = smsgo_simulator.server.port
    smsgo_simulator.refuse()
    with pytest.raises(requests.ConnectionError) as caught:
        send(call)
    assert "refused" in str(caught.value).lower()
    smsgo_simulator.resume()
    assert smsgo_simulator.server.port == port
    assert plain(send(call))["statuscode"] == "0"
    assert len(smsgo_simulator.messages) == 2


def test_refuse_over_the_admin_api_reopens_by_itself(smsgo_simulator: Simulator) -> None:
    server = smsgo_simulator.server
    port = server.port
    answer = requests.post(
        smsgo_simulator.admin_url + "faults", json={"kind": "refuse", "seconds": 0.5}, timeout=10
    )
    assert answer.json() == {"refused_for": 0.5}
    # The server counts the times it stopped listening: wait on that, not on the clock, so a
    # loaded machine cannot make the test miss the window.
    assert server.wait_listening(refusals=1, timeout=30)
    assert (server.refusals, server.port) == (1, port)
    assert requests.get(smsgo_simulator.admin_url + "state", timeout=5).status_code == 200


def test_wait_listening_times_out_while_refused(smsgo_simulator: Simulator) -> None:
    smsgo_simulator.refuse()
    assert smsgo_simulator.server.wait_listening(refusals=1, timeout=0.01) is False
    smsgo_simulator.resume()
    assert smsgo_simulator.server.wait_listening(refusals=1, timeout=0.01) is True


def test_stop_cancels_a_pending_refuse_and_its_reopening(smsgo_simulator_factory) -> None:
    simulator = smsgo_simulator_factory()
    requests.post(
        simulator.admin_url + "faults", json={"kind": "refuse", "seconds": 60}, timeout=10
    )
    simulator.stop()
    simulator.server.resume()  # what a late timer would do
    assert not simulator.server.listening


def test_a_backup_instance_is_independent(
    call: Call, smsgo_simulator: Simulator, smsgo_simulator_factory
) -> None:
    backup = smsgo_simulator_factory()
    smsgo_simulator.refuse()
    response = requests.get(
        backup.base_url + "sendsms.aspx",
        params={
            "username": USERNAME,
            "password": "vendor-Pa55word",
            "dstaddr": "0912345678",
            "smbody": "x",
        },
        timeout=10,
    )
    assert plain(response)["statuscode"] == "0"
    assert (len(backup.messages), len(smsgo_simulator.messages)) == (1, 0)

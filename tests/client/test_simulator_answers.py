"""The client's parsers read every answer the simulator gives, in every format and answer mode.

The simulator answers as the document shows (JSON with its trailing comma and
spacing) by default, with valid JSON or with the worked examples' stray spaces
on request (``smsgo_simulator_config`` in ``conftest.py`` runs each test in
each mode); ``rtype`` picks plain, JSON or XML. Whatever the form, the client
must read the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from django_smsgo.client import answers
from django_smsgo.simulator import Account, Simulator

USERNAME, PASSWORD = "answers", "answers-Pa55"
RTYPES = [None, "JSON", "XML"]
TAIPEI = ZoneInfo("Asia/Taipei")

Get = Callable[..., bytes]


@pytest.fixture
def smsgo_simulator_accounts() -> list[Account]:
    return [Account(USERNAME, PASSWORD, 100)]


@pytest.fixture
def get(smsgo_simulator: Simulator) -> Get:
    """``get("query.asp", msgid=..., rtype=...)``: the raw answer body."""

    def fetch(endpoint: str, **params: str | None) -> bytes:
        query = {"username": USERNAME, "password": PASSWORD, **params}
        response = requests.get(
            smsgo_simulator.base_url + endpoint,
            params={k: v for k, v in query.items() if v is not None},
            timeout=10,
        )
        assert response.status_code == 200
        return response.content

    return fetch


def sent(get: Get, dstaddr: str = "0912345678,0912345691", **params: str) -> str:
    answer = answers.parse_send(get("sendsms.aspx", dstaddr=dstaddr, smbody="hi", **params))
    assert answer.statuscode == 0
    return answer.msgid


@pytest.mark.parametrize("rtype", RTYPES)
def test_send_accepted_and_refused(get: Get, rtype: str | None) -> None:
    accepted = answers.parse_send(
        get("sendsms.aspx", dstaddr="0912345678", smbody="hi", rtype=rtype)
    )
    assert (accepted.statuscode, accepted.points, len(accepted.msgid)) == (0, 1, 16)
    refused = answers.parse_send(
        get("sendsms.aspx", dstaddr="0812345678", smbody="hi", rtype=rtype)
    )
    assert (refused.statuscode, refused.statusstr, refused.msgid) == (-5, "B Number違反規則", "")
    empty = answers.parse_send(get("sendsms.aspx", dstaddr="0912345678", smbody="", rtype=rtype))
    assert (empty.statuscode, empty.statusstr) == (-1, "CGI string error!!")


@pytest.mark.parametrize("rtype", RTYPES)
def test_query_every_receiver_and_one(
    get: Get, smsgo_simulator: Simulator, rtype: str | None
) -> None:
    msgid = sent(get)
    smsgo_simulator.advance()
    rows = answers.parse_statuses(get("query.asp", msgid=msgid, rtype=rtype))
    assert [(r.statuscode, r.statusstr, r.phone) for r in rows] == [
        (0, "DELIVRD", "0912345678"),
        (0, "UNDELIV", "0912345691"),
    ]
    [row] = answers.parse_statuses(get("query.asp", msgid=msgid, dstaddr="0912345691", rtype=rtype))
    assert (row.statusstr, row.phone) == ("UNDELIV", "0912345691")
    [unknown] = answers.parse_statuses(get("query.asp", msgid="1", rtype=rtype))
    assert (unknown.statuscode, unknown.statusstr, unknown.phone) == (
        -1,
        "CGI string error or Unknow",
        "",
    )


@pytest.mark.parametrize("rtype", RTYPES)
def test_query_bulk(get: Get, smsgo_simulator: Simulator, rtype: str | None) -> None:
    first, second = sent(get, "0912345678"), sent(get, "0912345693")
    smsgo_simulator.advance()
    rows = answers.parse_statuses(
        get(
            "queryBulk.asp",
            msgid=f"{first},{second}",
            dstaddr="0912345678,0912345693",
            rtype=rtype,
        )
    )
    assert [(r.msgid, r.phone, r.statusstr) for r in rows] == [
        (first, "0912345678", "DELIVRD"),
        (second, "0912345693", "EXPIRED"),
    ]


@pytest.mark.parametrize("rtype", RTYPES)
def test_balance_and_its_refusal(get: Get, rtype: str | None) -> None:
    status, points = answers.parse_balance(get("query_point.asp", rtype=rtype))
    assert (status.statuscode, points) == (0, 100)
    status, points = answers.parse_balance(get("query_point.asp", password="x", rtype=rtype))
    assert (status.statuscode, points) == (-2, None)


@pytest.mark.parametrize("rtype", RTYPES)
def test_cancel_then_the_deleted_state(get: Get, rtype: str | None) -> None:
    later = (datetime.now(TAIPEI) + timedelta(hours=2)).strftime("%Y/%m/%d %H:%M:%S")
    msgid = sent(get, "0912345678", dlvtime=later)
    cancelled = answers.parse_cancel(get("sendsms_cancel.asp", msgid=msgid, rtype=rtype))
    assert (cancelled.statuscode, cancelled.get("msgid")) == (0, msgid)
    [row] = answers.parse_statuses(get("query.asp", msgid=msgid, rtype=rtype))
    assert (row.statuscode, row.statusstr) == (0, "DELETED")
    again = answers.parse_cancel(get("sendsms_cancel.asp", msgid=msgid, rtype=rtype))
    assert (again.statuscode, again.statusstr) == (-1, "CGI string error or Unknow")

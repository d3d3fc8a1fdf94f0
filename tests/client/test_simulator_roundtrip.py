"""The client against the bundled simulator: every endpoint and each failover rule, end to end.

The byte-level answer formats are tested against scripted servers in the other
modules; here the two independent implementations of the vendor document have
to agree with each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from django_smsgo.client import SmsgoClient
from django_smsgo.exceptions import (
    AnswerLostError,
    AuthorizationError,
    GatewayHTTPError,
    GatewayUnreachableError,
    InsufficientPointsError,
    UnparsableAnswerError,
)
from django_smsgo.simulator.instance import Simulator
from django_smsgo.simulator.records import Account

USERNAME, PASSWORD = "roundtrip", "roundtrip-Pa55"
TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.fixture
def smsgo_simulator_accounts() -> list[Account]:
    return [Account(USERNAME, PASSWORD, 1_000)]


@pytest.fixture
def make_client() -> Iterator[Callable[..., SmsgoClient]]:
    clients: list[SmsgoClient] = []

    def make(primary: Simulator, backup: Simulator | None = None, **kwargs: object) -> SmsgoClient:
        client = SmsgoClient(
            USERNAME,
            PASSWORD,
            api_url=primary.base_url,
            backup_api_url=backup.base_url if backup else None,
            **kwargs,  # type: ignore[arg-type]
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_send_query_and_balance(smsgo_simulator: Simulator, make_client) -> None:
    client = make_client(smsgo_simulator)
    result = client.send(["0912-345-678", "+886 912 345 691"], "簡訊測試")

    assert result.statuscode == 0
    assert result.points == 2
    assert set(result.numbers) == {"0912345678", "0912345691"}
    accepted = smsgo_simulator.message(result.msgid)
    assert accepted.body == "簡訊測試"
    assert client.balance() == 998

    smsgo_simulator.advance()
    statuses = {s.number: s for s in client.query_bulk([(result.msgid, n) for n in result.numbers])}
    assert statuses["0912345678"].statusstr == "DELIVRD"
    assert statuses["0912345691"].statusstr == "UNDELIV"
    assert all(s.is_final for s in statuses.values())
    assert client.query(result.msgid, "0912345678").statusstr == "DELIVRD"


def test_a_message_is_one_request_with_one_msgid(smsgo_simulator: Simulator, make_client) -> None:
    client = make_client(smsgo_simulator)
    numbers = [f"09123450{i:02d}" for i in range(50)]
    client.send(numbers, "hello")
    assert len(smsgo_simulator.requests) == 1
    assert len(smsgo_simulator.messages) == 1
    assert smsgo_simulator.duplicates()["pairs"] == 0


def test_scheduled_send_can_be_cancelled_and_refunded(
    smsgo_simulator: Simulator, make_client
) -> None:
    client = make_client(smsgo_simulator)
    later = datetime.now(TAIPEI) + timedelta(hours=2)
    result = client.send(["0912345678"], "see you later", dlvtime=later)
    assert client.query(result.msgid, "0912345678").statusstr == "SCHEDULED"
    assert client.balance() == 999

    cancelled = client.cancel(result.msgid)
    assert cancelled.cancelled
    assert client.balance() == 1_000
    status = client.query(result.msgid, "0912345678")
    assert (status.statusstr, status.is_final, status.is_delivered) == ("DELETED", True, False)
    again = client.cancel(result.msgid)
    assert (again.cancelled, again.statuscode, again.statusstr) == (
        False,
        -1,
        "CGI string error or Unknow",
    )


def test_gateway_refusals_become_typed_errors(smsgo_simulator: Simulator, make_client) -> None:
    smsgo_simulator.add_account(USERNAME, PASSWORD, 0)
    with pytest.raises(InsufficientPointsError):
        make_client(smsgo_simulator).send(["0912345678"], "no points")

    wrong = SmsgoClient(USERNAME, "wrong-password", api_url=smsgo_simulator.base_url)
    with wrong, pytest.raises(AuthorizationError):
        wrong.balance()


def test_refused_connection_fails_over_to_the_backup(
    smsgo_simulator: Simulator, smsgo_simulator_factory, make_client
) -> None:
    backup = smsgo_simulator_factory()
    smsgo_simulator.refuse()
    result = make_client(smsgo_simulator, backup).send(["0912345678"], "via backup")
    assert result.api_url == backup.base_url
    assert len(backup.messages) == 1


def test_send_fail_answer_fails_over_to_the_backup(
    smsgo_simulator: Simulator, smsgo_simulator_factory, make_client
) -> None:
    backup = smsgo_simulator_factory()
    smsgo_simulator.fault("code", "sendsms.aspx", code=-10)
    result = make_client(smsgo_simulator, backup).send(["0912345678"], "via backup")
    assert result.api_url == backup.base_url
    assert smsgo_simulator.messages == []
    assert len(backup.messages) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [("drop", AnswerLostError), ("garbage", UnparsableAnswerError), ("http500", GatewayHTTPError)],
)
def test_uncertain_answers_are_never_sent_again(
    smsgo_simulator: Simulator, smsgo_simulator_factory, make_client, fault: str, error: type
) -> None:
    backup = smsgo_simulator_factory()
    smsgo_simulator.fault(fault, "sendsms.aspx")
    with pytest.raises(error) as raised:
        make_client(smsgo_simulator, backup).send(["0912345678"], "only once")
    assert raised.value.may_have_reached_gateway
    sends = [r for r in smsgo_simulator.requests if r["endpoint"] == "sendsms.aspx"]
    assert len(sends) == 1
    assert backup.requests == []


def test_both_hosts_unreachable(
    smsgo_simulator: Simulator, smsgo_simulator_factory, make_client
) -> None:
    backup = smsgo_simulator_factory()
    smsgo_simulator.refuse()
    backup.refuse()
    with pytest.raises(GatewayUnreachableError) as raised:
        make_client(smsgo_simulator, backup).send(["0912345678"], "nowhere")
    assert raised.value.may_have_reached_gateway is False


def test_requests_reuse_one_connection(smsgo_simulator: Simulator, make_client) -> None:
    client = make_client(smsgo_simulator)
    for _ in range(5):
        client.send(["0912345678"], "keep-alive")
    assert smsgo_simulator.state.snapshot()["connections_opened"] == 1

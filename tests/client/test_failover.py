"""Transport faults: how each is classified, and that the backup is used only when safe."""

from __future__ import annotations

import pytest

from django_smsgo.exceptions import (
    AnswerLostError,
    GatewayHTTPError,
    GatewayTimeoutError,
    GatewayUnreachableError,
    SendFailedError,
    UncertainOutcomeError,
    UnparsableAnswerError,
)
from tests.client.conftest import BASE, StaleKeepAliveServer, base_url

SEND_OK = b"msgid=555\nstatuscode=0\nstatusstr=OK\npoint=1\n"
SEND_FAIL = b"msgid=-1\nstatuscode=-10\nstatusstr=Send Fail\npoint=0\n"
BALANCE_OK = b'{"results":{"result":[{"statuscode":"0","point":"99"}]}}'


def test_refused_primary_sends_through_the_backup(refused_url, backup, make_client):
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    result = make_client(refused_url, base_url(backup)).send("0912345678", "hi")
    assert result.api_url == base_url(backup)
    assert len(backup.log) == 1


def test_dns_failure_is_unreachable_and_fails_over(backup, make_client):
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    client = make_client("http://gateway.invalid/sms_gw/", base_url(backup))
    assert client.send("0912345678", "hi").api_url == base_url(backup)


def test_primary_send_fail_goes_to_the_backup(primary, backup, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    result = make_client(base_url(primary), base_url(backup)).send("0912345678", "hi")
    assert result.msgid == "555"
    assert result.api_url == base_url(backup)
    assert (len(primary.log), len(backup.log)) == (1, 1)


def test_both_hosts_send_fail_raises_send_failed(primary, backup, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    with pytest.raises(SendFailedError) as caught:
        make_client(base_url(primary), base_url(backup)).send("0912345678", "hi")
    assert caught.value.permanent is False


def test_both_unreachable_is_surely_not_sent(refused_url, make_client):
    with pytest.raises(GatewayUnreachableError) as caught:
        make_client(refused_url, "http://gateway.invalid/sms_gw/").send("0912345678", "hi")
    assert caught.value.may_have_reached_gateway is False


def test_primary_send_fail_then_backup_unreachable_reports_the_send_fail(
    primary, refused_url, make_client
):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    with pytest.raises(SendFailedError):
        make_client(base_url(primary), refused_url).send("0912345678", "hi")


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (lambda server: server.respond_with_data(b"oops", status=500), GatewayHTTPError),
        (lambda server: server.respond_with_data(b"<html>busy</html>"), UnparsableAnswerError),
    ],
    ids=["http-500", "garbage"],
)
def test_uncertain_send_never_goes_to_the_backup(primary, backup, make_client, setup, error):
    setup(primary.expect_request(BASE + "sendsms.aspx"))
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    client = make_client(base_url(primary), base_url(backup), read_timeout=0.3)
    with pytest.raises(error) as caught:
        client.send("0912345678", "hi")
    assert isinstance(caught.value, UncertainOutcomeError)
    assert caught.value.may_have_reached_gateway is True
    assert caught.value.api_url == base_url(primary)
    assert len(primary.log) == 1
    assert backup.log == []


def test_http_error_carries_the_status(primary, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(b"x", status=503)
    with pytest.raises(GatewayHTTPError) as caught:
        make_client(base_url(primary)).send("0912345678", "hi")
    assert caught.value.status == 503


def test_dropped_answer_is_uncertain_not_retried_and_not_failed_over(
    dropping_server, backup, make_client
):
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    client = make_client(dropping_server.url, base_url(backup))
    with pytest.raises(AnswerLostError) as caught:
        client.send("0912345678", "hi")
    assert caught.value.may_have_reached_gateway is True
    assert len(dropping_server.requests) == 1
    assert b"GET /sms_gw/sendsms.aspx?" in dropping_server.requests[0]
    assert backup.log == []


def test_a_stale_keep_alive_connection_is_uncertain_and_not_retried(make_client):
    server = StaleKeepAliveServer(b'{"results":{"result":[{"statuscode":"0","point":"1"}]}}')
    try:
        client = make_client(server.url)
        assert client.balance() == 1
        with pytest.raises(AnswerLostError):
            client.send("0912345678", "hi")
    finally:
        server.close()
    assert len(server.requests) == 2
    assert b"sendsms.aspx" in server.requests[1]


@pytest.mark.parametrize("fault", ["drop", "500", "garbage"])
def test_read_only_calls_fail_over_on_any_fault(
    fault, primary, backup, dropping_server, make_client
):
    if fault == "drop":
        primary_url = dropping_server.url
    else:
        body, status = (b"x", 500) if fault == "500" else (b"<html/>", 200)
        primary.expect_request(BASE + "query_point.asp").respond_with_data(body, status=status)
        primary_url = base_url(primary)
    backup.expect_request(BASE + "query_point.asp").respond_with_data(BALANCE_OK)
    assert make_client(primary_url, base_url(backup)).balance() == 99
    assert len(backup.log) == 1


def test_cancel_fails_over_only_when_safe(primary, backup, refused_url, make_client):
    backup.expect_request(BASE + "sendsms_cancel.asp").respond_with_data(
        b"msgid=7\nstatuscode=0\nstatusstr=OK\n"
    )
    assert make_client(refused_url, base_url(backup)).cancel("7").cancelled is True
    primary.expect_request(BASE + "sendsms_cancel.asp").respond_with_data(b"x", status=500)
    with pytest.raises(GatewayHTTPError):
        make_client(base_url(primary), base_url(backup)).cancel("7")
    assert len(backup.log) == 1


def test_without_backup_a_refused_connection_raises_unreachable(refused_url, make_client):
    with pytest.raises(GatewayUnreachableError) as caught:
        make_client(refused_url).send("0912345678", "hi")
    assert caught.value.api_url == refused_url


def test_read_timeout_is_uncertain_and_never_goes_to_the_backup(silent_server, backup, make_client):
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    client = make_client(silent_server.url, base_url(backup), read_timeout=0.3)
    with pytest.raises(GatewayTimeoutError) as caught:
        client.send("0912345678", "hi")
    assert caught.value.may_have_reached_gateway is True
    assert len(silent_server.requests) == 1
    assert backup.log == []


def test_read_only_call_fails_over_after_a_read_timeout(silent_server, backup, make_client):
    backup.expect_request(BASE + "query_point.asp").respond_with_data(BALANCE_OK)
    client = make_client(silent_server.url, base_url(backup), read_timeout=0.3)
    assert client.balance() == 99

"""TLS against a real server on loopback: when a failure means "not sent", and when "perhaps".

Only a failure before any byte of the request left (DNS, TCP connect, the TLS
handshake, certificate verification) may fail over to the backup host. A TLS
error while the answer is read — a corrupt record, an alert, a reset — comes
after the gateway may have taken the send: it is "perhaps sent", the backup is
not tried, and the server saw exactly one request.
"""

from __future__ import annotations

import ssl

import pytest

from django_smsgo.exceptions import (
    AnswerLostError,
    GatewayTimeoutError,
    GatewayUnreachableError,
    UncertainOutcomeError,
)
from tests.client.conftest import BASE, base_url

SEND_OK = b"msgid=555\nstatuscode=0\nstatusstr=OK\npoint=1\n"
CANCEL_OK = b"msgid=7\nstatuscode=0\nstatusstr=OK\n"
BALANCE_OK = b'{"results":{"result":[{"statuscode":"0","point":"99"}]}}'

AFTER_THE_REQUEST = [
    ("corrupt", AnswerLostError),
    ("alert", AnswerLostError),
    ("reset", AnswerLostError),
    ("close", AnswerLostError),
    ("ragged", AnswerLostError),
    ("half", AnswerLostError),
    ("stall", GatewayTimeoutError),
]


@pytest.fixture
def trusting(tls_certificates) -> ssl.SSLContext:
    """A client context that trusts the test CA (and verifies as the default does)."""
    return ssl.create_default_context(cafile=str(tls_certificates.ca))


def test_send_over_tls(tls_server, trusting, make_client):
    server = tls_server("answer", SEND_OK)
    result = make_client(server.url(), ssl_context=trusting).send("0912345678", "hi")
    assert (result.msgid, result.api_url) == ("555", server.url())
    assert len(server.requests) == 1
    assert b"GET /sms_gw/sendsms.aspx?" in server.requests[0]


def test_tls_connections_are_kept_alive(tls_server, trusting, make_client):
    server = tls_server("answer", BALANCE_OK)
    client = make_client(server.url(), ssl_context=trusting)
    assert [client.balance() for _ in range(3)] == [99, 99, 99]
    assert len(server.requests) == 3
    assert server.connections == 1


@pytest.mark.parametrize(
    ("behaviour", "error"), AFTER_THE_REQUEST, ids=[b for b, _ in AFTER_THE_REQUEST]
)
def test_a_send_broken_after_the_request_is_perhaps_sent_and_never_failed_over(
    behaviour, error, tls_server, trusting, backup, make_client
):
    server = tls_server(behaviour, SEND_OK)
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    client = make_client(server.url(), base_url(backup), ssl_context=trusting, read_timeout=0.5)
    with pytest.raises(UncertainOutcomeError) as caught:
        client.send("0912345678", "hi")
    assert type(caught.value) is error
    assert caught.value.may_have_reached_gateway is True
    assert caught.value.api_url == server.url()
    assert len(server.requests) == 1
    assert backup.log == []


@pytest.mark.parametrize("behaviour", ["corrupt", "alert", "reset"])
def test_a_cancel_broken_after_the_request_is_perhaps_done_and_never_failed_over(
    behaviour, tls_server, trusting, backup, make_client
):
    server = tls_server(behaviour, CANCEL_OK)
    backup.expect_request(BASE + "sendsms_cancel.asp").respond_with_data(CANCEL_OK)
    client = make_client(server.url(), base_url(backup), ssl_context=trusting, read_timeout=0.5)
    with pytest.raises(AnswerLostError):
        client.cancel("7")
    assert len(server.requests) == 1
    assert backup.log == []


@pytest.mark.parametrize("behaviour", ["corrupt", "alert", "reset", "stall"])
def test_a_read_only_call_broken_after_the_request_moves_to_the_backup(
    behaviour, tls_server, trusting, backup, make_client
):
    server = tls_server(behaviour, BALANCE_OK)
    backup.expect_request(BASE + "query_point.asp").respond_with_data(BALANCE_OK)
    client = make_client(server.url(), base_url(backup), ssl_context=trusting, read_timeout=0.5)
    assert client.balance() == 99
    assert len(server.requests) == 1
    assert len(backup.log) == 1


def _not_sent_case(case, tls_server, trusting, refused_url):
    """(primary URL, ssl_context, the server or None, words the error detail holds)."""
    if case == "unknown-ca":  # the default context: the system's CAs do not know the test CA
        server = tls_server("answer", SEND_OK)
        return server.url(), None, server, "certificate verify failed"
    if case == "foreign-ca":
        server = tls_server("answer", SEND_OK, cert="foreign")
        return server.url(), trusting, server, "certificate verify failed"
    if case == "hostname-mismatch":
        server = tls_server("answer", SEND_OK, cert="other_name")
        return server.url(), trusting, server, "certificate verify failed"
    if case == "handshake-reset":
        server = tls_server("handshake-reset", SEND_OK)
        return server.url(), trusting, server, "connection failed"
    if case == "refused":
        return refused_url.replace("http://", "https://"), trusting, None, "connection failed"
    return "https://gateway.invalid/sms_gw/", trusting, None, "connection failed"


NOT_SENT = ["unknown-ca", "foreign-ca", "hostname-mismatch", "handshake-reset", "refused", "dns"]


@pytest.mark.parametrize("case", NOT_SENT)
def test_a_failure_before_the_request_left_fails_over_to_the_backup(
    case, tls_server, trusting, refused_url, backup, make_client
):
    url, context, server, _ = _not_sent_case(case, tls_server, trusting, refused_url)
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    result = make_client(url, base_url(backup), ssl_context=context).send("0912345678", "hi")
    assert result.api_url == base_url(backup)
    assert len(backup.log) == 1
    if server is not None:
        assert server.requests == []


@pytest.mark.parametrize("case", NOT_SENT)
def test_a_failure_before_the_request_left_is_surely_not_sent(
    case, tls_server, trusting, refused_url, make_client
):
    url, context, server, words = _not_sent_case(case, tls_server, trusting, refused_url)
    with pytest.raises(GatewayUnreachableError) as caught:
        make_client(url, ssl_context=context).send("0912345678", "hi")
    assert caught.value.may_have_reached_gateway is False
    assert words in caught.value.detail
    if server is not None:
        assert server.requests == []


def test_ssl_cert_file_is_honoured_by_the_default_context(
    tls_server, tls_certificates, monkeypatch, make_client
):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_certificates.ca))
    server = tls_server("answer", BALANCE_OK)
    assert make_client(server.url()).balance() == 99

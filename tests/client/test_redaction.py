"""The password never reaches a log line, an exception message, a repr or a traceback."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from django_smsgo.client import SmsgoClient
from django_smsgo.client.transport import Credentials
from django_smsgo.exceptions import SmsgoError
from tests.client.conftest import BASE, PASSWORD, base_url

FORMS = {PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD)}


class CaptureAll(logging.Handler):
    """Formats every record the root logger sees, except the test server's own access log."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        # werkzeug is the loopback test server, not the client: its access log
        # is the gateway's side of the wire.
        if not record.name.startswith("werkzeug"):
            self.stream.write(f"{record.name}: {record.getMessage()}\n")


@pytest.fixture
def captured() -> Iterator[CaptureAll]:
    root = logging.getLogger()
    previous = root.level
    handler = CaptureAll()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "requests", "django_smsgo"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def assert_clean(text: str) -> None:
    for form in FORMS:
        assert form not in text


def assert_error_clean(error: BaseException) -> None:
    assert error.__context__ is None
    assert error.__cause__ is None
    assert_clean(str(error))
    assert_clean(repr(error))
    formatted = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format()
    )
    assert_clean(formatted)
    for attribute in vars(error).values():
        assert_clean(repr(attribute))


def fault_cases(primary, refused_url, dropping_server, silent_server):
    def respond(body: bytes, status: int = 200):
        primary.expect_request(BASE + "sendsms.aspx").respond_with_data(body, status=status)
        return base_url(primary)

    return {
        "refused": lambda: refused_url,
        "dns": lambda: "http://gateway.invalid/sms_gw/",
        "dropped": lambda: dropping_server.url,
        "timeout": lambda: silent_server.url,
        "http-500": lambda: respond(b"error at /sendsms.aspx?password=" + PASSWORD.encode(), 500),
        "garbage": lambda: respond(
            b"<html>echo: password=" + quote(PASSWORD).encode() + b"</html>"
        ),
        "gateway-2": lambda: respond(b"msgid=-1\nstatuscode=-2\nstatusstr=Authorization error\n"),
    }


@pytest.mark.parametrize(
    "case", ["refused", "dns", "dropped", "timeout", "http-500", "garbage", "gateway-2"]
)
def test_no_error_path_shows_the_password(
    case, captured, primary, refused_url, dropping_server, silent_server, make_client
):
    url = fault_cases(primary, refused_url, dropping_server, silent_server)[case]()
    client = make_client(url, read_timeout=0.3)
    with pytest.raises(SmsgoError) as caught:
        client.send("0912345678", "hi")
    assert_error_clean(caught.value)
    log = captured.stream.getvalue()
    assert "sendsms.aspx" in log  # the requests were logged, only masked
    assert_clean(log)


def test_the_request_line_the_client_logs_is_masked(captured, primary, make_client):
    primary.expect_request(BASE + "query_point.asp").respond_with_data(
        b'{"results":{"result":[{"statuscode":"0","point":"5"}]}}'
    )
    make_client(base_url(primary)).balance()
    log = captured.stream.getvalue()
    assert "django_smsgo.client: GET http://" in log
    assert "query_point.asp?username=tester&password=********&rtype=JSON" in log
    assert_clean(log)


def test_reprs_hide_the_password(primary):
    client = SmsgoClient("tester", PASSWORD, api_url=base_url(primary))
    try:
        assert_clean(repr(client))
        assert_clean(repr(Credentials("tester", PASSWORD)))
        assert_clean(str(Credentials("tester", PASSWORD)))
    finally:
        client.close()


def test_callback_urls_in_the_request_line_are_masked(captured, primary, make_client):
    token = "0123456789abcdef0123456789abcdef"
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(
        b"msgid=100101121234567\nstatuscode=0\nstatusstr=OK\npoint=1\n"
    )
    make_client(base_url(primary)).send(
        ["0912345678"],
        "hello",
        response=f"https://example.com/smsgo/report/7/{token}/",
        replyurl=f"https://example.com/smsgo/reply/7/{token}/",
    )
    log = captured.stream.getvalue()
    assert "response=********" in log
    assert "replyurl=********" in log
    assert token not in log


@pytest.mark.parametrize("behaviour", ["corrupt", "alert", "reset", "half", "stall", "unknown-ca"])
def test_no_tls_error_path_shows_the_password(
    behaviour, captured, tls_server, tls_certificates, make_client
):
    import ssl

    if behaviour == "unknown-ca":
        server, context = tls_server("answer", b"x"), None
    else:
        server = tls_server(behaviour, b"msgid=1\nstatuscode=0\n")
        context = ssl.create_default_context(cafile=str(tls_certificates.ca))
    client = make_client(server.url(), read_timeout=0.3, ssl_context=context)
    with pytest.raises(SmsgoError) as caught:
        client.send("0912345678", "hi")
    assert_error_clean(caught.value)
    log = captured.stream.getvalue()
    assert "sendsms.aspx" in log
    assert_clean(log)


def test_a_pending_send_shows_no_password(captured, primary, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(b"garbage")
    client = make_client(base_url(primary))
    pending = client.start_send(client.validate_send("0912345678", "hi"))
    assert_clean(repr(pending))
    with pytest.raises(SmsgoError) as caught:
        pending.result()
    assert_error_clean(caught.value)
    assert_clean(captured.stream.getvalue())

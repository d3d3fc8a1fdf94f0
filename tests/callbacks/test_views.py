"""The callback views through Django's test client: answers, authentication, bad input."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError
from django.db import connection as db_connection
from django.test import Client

from django_smsgo.models import Batch, DeliveryReport, Recipient, Reply
from django_smsgo.services.callback_urls import make_token

from .conftest import TOKEN, make_batch, report_path, smsgo_config

pytestmark = pytest.mark.django_db

MSGID = "100101121234567"
PHONE = "0912345678"
ACK = f"magicid=tccrd_sms_gateway_rpack\nmsgid={MSGID}\n"


@pytest.fixture
def batch() -> Batch:
    return make_batch()


def report_params(**overrides: str) -> dict[str, str]:
    params = {"msgid": MSGID, "statusstr": "DELIVRD", "statuscode": "0", "dstaddr": PHONE}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def test_report_is_acknowledged_exactly_after_it_is_stored(client: Client, batch: Batch) -> None:
    response = client.get(report_path(batch), report_params())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content == ACK.encode()
    report = DeliveryReport.objects.get()
    assert report.outcome == DeliveryReport.Outcome.APPLIED
    assert report.raw == report_params()
    assert Recipient.objects.get().status == Recipient.Status.DELIVERED


def test_report_in_the_documented_format_without_dstaddr(client: Client, batch: Batch) -> None:
    query = f"msgid={MSGID}&statuscode=0&statusstr=DELIVRD"
    response = client.get(f"{report_path(batch)}?{query}")
    assert response.content == ACK.encode()
    assert Recipient.objects.get().status == Recipient.Status.DELIVERED


def test_report_by_post_form_data(client: Client, batch: Batch) -> None:
    response = client.post(report_path(batch), report_params())
    assert response.content == ACK.encode()
    assert Recipient.objects.get().status == Recipient.Status.DELIVERED


def test_post_needs_no_csrf_token(batch: Batch) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(report_path(batch), report_params()).status_code == 200


def test_stray_spaces_are_tolerated(client: Client, batch: Batch) -> None:
    response = client.get(
        report_path(batch), report_params(msgid=f" {MSGID}", statusstr="DELIVRD ")
    )
    assert response.content == ACK.encode()


def test_unknown_status_string_is_stored_as_such(client: Client, batch: Batch) -> None:
    response = client.get(report_path(batch), report_params(statusstr="QUEUED_AT_SMSC"))
    assert response.status_code == 200
    assert DeliveryReport.objects.get().statusstr == "QUEUED_AT_SMSC"
    assert Recipient.objects.get().status == Recipient.Status.SUBMITTED


def test_report_for_unknown_recipient_is_acknowledged_and_kept(client: Client) -> None:
    batch = make_batch(state=Batch.State.CLAIMED)
    response = client.get(report_path(batch), report_params())
    assert response.content == ACK.encode()
    assert DeliveryReport.objects.get().outcome == DeliveryReport.Outcome.PENDING


# --- authentication ---------------------------------------------------------------------------


def assert_nothing_written() -> None:
    assert DeliveryReport.objects.count() == 0
    assert Reply.objects.count() == 0
    assert set(Recipient.objects.values_list("status", flat=True)) <= {"submitted"}


@pytest.mark.parametrize(
    "path_for",
    [
        pytest.param(lambda b: f"/smsgo/report/{b.pk}/{'0' * 32}/", id="made-up"),
        pytest.param(
            lambda b: f"/smsgo/report/{b.pk + 1}/{make_token('report', b.pk)}/", id="other-batch"
        ),
        pytest.param(
            lambda b: f"/smsgo/report/{b.pk}/{make_token('reply', b.pk)}/", id="reply-token"
        ),
        pytest.param(
            lambda b: f"/smsgo/report/{b.pk}/{make_token('report', b.pk, 'x' * 30)}/",
            id="other-secret",
        ),
        pytest.param(lambda b: f"/smsgo/report/{b.pk}/{TOKEN}/", id="the-secret-itself"),
    ],
)
def test_wrong_token_gets_404_and_writes_nothing(
    client: Client, batch: Batch, path_for: Callable[[Batch], str]
) -> None:
    response = client.get(path_for(batch), report_params())
    assert response.status_code == 404
    assert response.content == b"not found\n"
    assert_nothing_written()


def test_wrong_token_answer_reveals_nothing_with_debug_on(
    client: Client, batch: Batch, settings: Any
) -> None:
    settings.DEBUG = True
    response = client.get(f"/smsgo/report/{batch.pk}/{'0' * 32}/", report_params())
    assert response.status_code == 404
    assert response.content == b"not found\n"


def test_previous_secret_is_accepted_during_a_rotation(
    client: Client, batch: Batch, settings: Any
) -> None:
    path = report_path(batch)  # signed with the old secret
    settings.SMSGO = smsgo_config(
        CALLBACK_TOKEN="a-brand-new-secret-0123456789", CALLBACK_PREVIOUS_TOKENS=[TOKEN]
    )
    assert client.get(path, report_params()).status_code == 200
    settings.SMSGO = smsgo_config(CALLBACK_TOKEN="a-brand-new-secret-0123456789")
    assert client.get(path, report_params()).status_code == 404


def test_source_outside_the_allow_list_gets_403(
    client: Client, batch: Batch, settings: Any
) -> None:
    settings.SMSGO = smsgo_config(CALLBACK_ALLOWED_IPS=["203.0.113.0/24"])
    response = client.get(report_path(batch), report_params(), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 403
    assert_nothing_written()
    response = client.get(report_path(batch), report_params(), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200


def test_forwarded_header_is_ignored_unless_configured(
    client: Client, batch: Batch, settings: Any
) -> None:
    settings.SMSGO = smsgo_config(CALLBACK_ALLOWED_IPS=["203.0.113.0/24"])
    response = client.get(
        report_path(batch),
        report_params(),
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 403
    assert_nothing_written()


def test_trusted_proxy_header_gives_the_source_address(
    client: Client, batch: Batch, settings: Any
) -> None:
    settings.SMSGO = smsgo_config(
        CALLBACK_ALLOWED_IPS=["203.0.113.0/24"], CALLBACK_TRUSTED_PROXY_HEADER="X-Forwarded-For"
    )
    path = report_path(batch)
    # The proxy appends the address it saw; what the client claimed before it does not count.
    spoofed = client.get(
        path,
        report_params(),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7",
    )
    assert spoofed.status_code == 403
    assert_nothing_written()
    honest = client.get(
        path,
        report_params(),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9",
    )
    assert honest.status_code == 200
    missing = client.get(path, report_params(), REMOTE_ADDR="203.0.113.9")
    assert missing.status_code == 403


def test_other_methods_are_refused(client: Client, batch: Batch) -> None:
    response = client.put(report_path(batch), "msgid=1")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert_nothing_written()


# --- bad input --------------------------------------------------------------------------------

BAD_QUERIES = {
    "missing-msgid": ("statuscode=0&statusstr=DELIVRD", "missing msgid"),
    "empty-msgid": ("msgid=&statuscode=0&statusstr=DELIVRD", "missing msgid"),
    "msgid-too-long": (f"msgid={'1' * 33}&statuscode=0&statusstr=DELIVRD", "msgid must be"),
    "msgid-with-markup": ("msgid=%3Cscript%3E&statusstr=DELIVRD", "msgid must be"),
    "statuscode-not-a-number": (
        f"msgid={MSGID}&statuscode=OK&statusstr=DELIVRD",
        "statuscode must be an integer",
    ),
    "statuscode-huge": (
        f"msgid={MSGID}&statuscode={'9' * 40}&statusstr=DELIVRD",
        "statuscode must be an integer",
    ),
    "missing-statusstr": (f"msgid={MSGID}&statuscode=0", "missing statusstr"),
    "statusstr-too-long": (f"msgid={MSGID}&statuscode=0&statusstr={'X' * 33}", "statusstr must be"),
    "statusstr-control-char": (
        f"msgid={MSGID}&statuscode=0&statusstr=DELIV%0ARD",
        "statusstr must be",
    ),
    "invalid-utf8": (f"msgid={MSGID}&statuscode=0&statusstr=%FF%FE", "not valid UTF-8"),
    "bad-dstaddr": (f"msgid={MSGID}&statuscode=0&statusstr=DELIVRD&dstaddr=09x", "dstaddr must be"),
    "repeated-msgid": (f"msgid={MSGID}&msgid=42&statusstr=DELIVRD", "given twice"),
    "too-many-fields": (
        f"msgid={MSGID}&statusstr=DELIVRD&" + "&".join(f"p{i}=1" for i in range(25)),
        "too many parameters",
    ),
    "oversized-query": (f"msgid={MSGID}&statusstr=DELIVRD&pad={'a' * 3000}", "too long"),
}


@pytest.mark.parametrize(("query", "reason"), list(BAD_QUERIES.values()), ids=list(BAD_QUERIES))
def test_bad_report_gets_400_with_a_short_reason_and_nothing_stored(
    client: Client, batch: Batch, caplog: pytest.LogCaptureFixture, query: str, reason: str
) -> None:
    with caplog.at_level(logging.INFO):
        response = client.get(f"{report_path(batch)}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain"
    assert reason in response.content.decode()
    assert len(response.content) < 120
    assert_nothing_written()
    assert reason in caplog.text  # the log line says why
    assert make_token("report", batch.pk) not in caplog.text  # and hides the token


def test_post_with_another_content_type_is_refused(client: Client, batch: Batch) -> None:
    response = client.post(report_path(batch), '{"msgid": "1"}', content_type="application/json")
    assert response.status_code == 400
    assert_nothing_written()


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_a_malformed_multipart_body_is_a_400(
    client: Client, batch: Batch, content_type: str
) -> None:
    response = client.post(report_path(batch), b"--y\r\nnonsense", content_type=content_type)
    assert response.status_code == 400
    assert response.content.decode().strip() == "malformed multipart body"
    assert_nothing_written()


def test_post_body_conflicting_with_query_is_refused(client: Client, batch: Batch) -> None:
    response = client.post(f"{report_path(batch)}?msgid={MSGID}", report_params(msgid="42"))
    assert response.status_code == 400
    assert_nothing_written()


def test_database_failure_answers_503_so_the_gateway_retries(
    client: Client, batch: Batch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail_report_insert(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # The report row is written by an INSERT, or on PostgreSQL inside the
        # one statement that records a report (sent as EXECUTE once prepared).
        text = sql.lstrip().upper()
        writes_report = "INSERT INTO" in text and "DELIVERYREPORT" in text
        if writes_report or text.startswith("EXECUTE SMSGO_"):
            raise OperationalError("disk I/O error")
        return execute(sql, params, many, context)

    with db_connection.execute_wrapper(fail_report_insert):
        response = client.get(report_path(batch), report_params())
    assert response.status_code == 503
    assert b"magicid" not in response.content
    assert b"disk I/O" not in response.content  # no internals in the answer
    # The recipient change made before the failing insert was rolled back with it.
    assert_nothing_written()
    assert make_token("report", batch.pk) not in caplog.text
    # The gateway's retry then succeeds.
    assert client.get(report_path(batch), report_params()).content == ACK.encode()


def test_misconfiguration_answers_500_without_details(
    client: Client, batch: Batch, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DEBUG = True
    settings.SMSGO = smsgo_config(CALLBACK_ALLOWED_IPS=["not-a-network"])
    response = client.get(report_path(batch), report_params())
    assert response.status_code == 500
    assert response.content == b"server error\n"
    assert "CALLBACK_ALLOWED_IPS" in caplog.text
    assert make_token("report", batch.pk) not in caplog.text


def test_no_log_line_holds_the_token(
    client: Client, batch: Batch, caplog: pytest.LogCaptureFixture
) -> None:
    path = report_path(batch)
    with caplog.at_level(logging.DEBUG):
        client.get(path, report_params())
        client.get(path, report_params(statuscode="x"))
        client.get(path.replace("/report/", "/reply/"), report_params())
        client.put(path)
    token = make_token("report", batch.pk)
    assert caplog.records  # something was logged ...
    assert token not in caplog.text  # ... and none of it holds the token
    assert not [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("tail", ["x/", "x", "a/b/", "%2e%2e/"])
def test_a_path_under_the_callback_urls_never_shows_its_token(
    client: Client,
    batch: Batch,
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    debug: bool,
    tail: str,
) -> None:
    """Django's own request log and debug pages get no path under report/ or reply/."""
    settings.DEBUG = debug
    token = make_token("report", batch.pk)
    with caplog.at_level(logging.DEBUG):
        for path in (report_path(batch), report_path(batch).replace("/report/", "/reply/")):
            response = client.get(path + tail)
            assert token not in response.content.decode()
    assert token not in caplog.text


def test_the_runserver_log_line_of_a_callback_is_redacted(batch: Batch) -> None:
    """A record of django.server (runserver's access log) with the path in its arguments."""
    token = make_token("report", batch.pk)
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET {report_path(batch)}?msgid=1 HTTP/1.1", "200", "52"),
        None,
    )
    for filter_ in logging.getLogger("django.server").filters:
        filter_.filter(record)  # type: ignore[union-attr]
    assert token not in record.getMessage()
    assert "/***/" in record.getMessage()


def test_report_by_post_urlencoded_body(client: Client, batch: Batch) -> None:
    body = f"msgid={MSGID}&statuscode=0&statusstr=UNDELIV&dstaddr={PHONE}"
    response = client.post(
        report_path(batch), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.content == ACK.encode()
    assert Recipient.objects.get().status == Recipient.Status.FAILED


def test_post_body_with_invalid_utf8_is_refused(client: Client, batch: Batch) -> None:
    body = f"msgid={MSGID}&statusstr=%C3%28".encode()
    response = client.post(
        report_path(batch), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert b"UTF-8" in response.content
    assert_nothing_written()


@pytest.mark.parametrize("extra", [{"note": "a\x00b"}, {"\x00": ""}, {"statusstr": "DELIV\x00RD"}])
def test_nul_characters_are_refused(client: Client, batch: Batch, extra: dict[str, str]) -> None:
    # No database text column can hold U+0000: a 503 would make the gateway
    # retry a report that can never be stored.
    response = client.get(report_path(batch), {**report_params(), **extra})
    assert response.status_code == 400
    assert b"NUL" in response.content
    assert_nothing_written()


def test_invalid_content_length_is_refused(client: Client, batch: Batch) -> None:
    response = client.generic(
        "POST",
        report_path(batch),
        b"msgid=1&statusstr=DELIVRD",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="many",
    )
    assert response.status_code == 400
    assert response.content == b"invalid Content-Length\n"
    assert_nothing_written()


def test_a_parameter_name_cannot_inject_log_lines(
    client: Client, batch: Batch, caplog: pytest.LogCaptureFixture
) -> None:
    query = f"msgid={MSGID}&statusstr=DELIVRD&x%0Afake=1&x%0Afake=2"
    response = client.get(f"{report_path(batch)}?{query}")
    assert response.status_code == 400
    assert "'x\\nfake' given twice" in caplog.text
    assert "\nfake" not in caplog.text

"""Signed callback URLs: their shape, their tokens, rotation and redaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_smsgo.services.callback_urls import (
    REPLY_URL_MAX_LENGTH,
    make_token,
    redact,
    reply_url,
    report_url,
    verify_token,
)

from .conftest import BASE_URL, smsgo_config


def test_report_url_is_path_based_with_batch_id_and_token() -> None:
    url = report_url(42)
    assert url == f"{BASE_URL}/smsgo/report/42/{make_token('report', 42)}/"
    assert "?" not in url  # the gateway appends "?msgid=..." literally


def test_reply_url_is_path_based_with_batch_id_and_token() -> None:
    assert reply_url(42) == f"{BASE_URL}/smsgo/reply/42/{make_token('reply', 42)}/"


def test_trailing_slash_of_the_base_url_is_not_doubled(settings: Any) -> None:
    settings.SMSGO = smsgo_config(CALLBACK_BASE_URL=BASE_URL + "/")
    assert report_url(1) == f"{BASE_URL}/smsgo/report/1/{make_token('report', 1)}/"


def test_no_urls_without_callback_base_url(settings: Any) -> None:
    settings.SMSGO = smsgo_config(CALLBACK_BASE_URL=None)
    assert report_url(1) is None
    assert reply_url(1) is None


def test_empty_secret_refuses_to_sign(settings: Any) -> None:
    settings.SMSGO = smsgo_config(CALLBACK_TOKEN="")
    with pytest.raises(ImproperlyConfigured, match="CALLBACK_TOKEN"):
        report_url(1)
    assert not verify_token("report", 1, make_token("report", 1, secret="anything"))


def test_token_is_bound_to_batch_and_kind() -> None:
    token = make_token("report", 7)
    assert len(token) == 32
    assert verify_token("report", 7, token)
    assert not verify_token("report", 8, token)  # a leaked URL cannot forge another batch
    assert not verify_token("reply", 7, token)  # nor the other kind of callback
    assert not verify_token("report", 7, token[:-1])
    assert not verify_token("report", 7, token.upper())


def test_previous_secret_still_accepted_during_rotation(settings: Any) -> None:
    old_token = make_token("report", 3)
    settings.SMSGO = smsgo_config(
        CALLBACK_TOKEN="the-new-secret-0123456789",
        CALLBACK_PREVIOUS_TOKENS=[smsgo_config()["CALLBACK_TOKEN"]],
    )
    assert verify_token("report", 3, old_token)
    assert verify_token("report", 3, make_token("report", 3))
    settings.SMSGO = smsgo_config(CALLBACK_TOKEN="the-new-secret-0123456789")
    assert not verify_token("report", 3, old_token)


def test_reply_url_stays_within_300_characters_with_a_234_character_origin(settings: Any) -> None:
    origin = "https://" + "a" * (234 - len("https://"))
    settings.SMSGO = smsgo_config(CALLBACK_BASE_URL=origin)
    largest_batch_id = 2**63 - 1
    url = reply_url(largest_batch_id)
    assert url is not None
    assert len(url) == REPLY_URL_MAX_LENGTH


def test_reply_url_too_long_is_refused_naming_the_limit(settings: Any) -> None:
    settings.SMSGO = smsgo_config(CALLBACK_BASE_URL="https://" + "a" * 290)
    with pytest.raises(ImproperlyConfigured, match="at most 300"):
        reply_url(1)


def test_redact_hides_every_token() -> None:
    url = report_url(5)
    assert url is not None
    token = url.rstrip("/").rsplit("/", 1)[1]
    redacted = redact(f"{url}?msgid=1 and {reply_url(6)}")
    assert token not in redacted
    assert make_token("reply", 6) not in redacted
    assert redacted == f"{BASE_URL}/smsgo/report/5/***/?msgid=1 and {BASE_URL}/smsgo/reply/6/***/"


def test_redact_finds_tokens_inside_an_encoded_send_request() -> None:
    from urllib.parse import urlencode

    logged = "GET /sms_gw/sendsms.aspx?" + urlencode(
        {"dstaddr": "0912345678", "response": report_url(5), "replyurl": reply_url(5)}
    )
    redacted = redact(logged)
    assert make_token("report", 5) not in redacted
    assert make_token("reply", 5) not in redacted
    assert "%2Fsmsgo%2Freport%2F5%2F***%2F" in redacted
    assert "dstaddr=0912345678" in redacted


def test_the_doctor_s_probe_token_is_redacted_too() -> None:
    assert redact("GET /smsgo/probe/n0nce/0123456789abcdef/ HTTP/1.1") == (
        "GET /smsgo/probe/n0nce/***/ HTTP/1.1"
    )

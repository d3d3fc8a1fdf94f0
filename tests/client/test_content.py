"""Dangerous content is refused before anything is sent: control characters, non-web WAP links."""

from __future__ import annotations

import pytest

from django_smsgo.client.validation import validate_send
from django_smsgo.exceptions import (
    ControlCharacterError,
    OptionNotAllowedError,
    UnencodableTextError,
)
from tests.client.conftest import base_url


@pytest.mark.parametrize(
    "wapurl",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "tel:0912345678",
        "http:alert",
        "https://",
        "http://:80/",
        "//example.com/path",
        "http://exa mple.com/",
        "http://example.com/\nSet-Cookie: x",
        "http://example.com/\x07",
        "http://[::1",
    ],
)
def test_only_web_links_with_a_host_are_pushed(wapurl):
    with pytest.raises(OptionNotAllowedError) as caught:
        validate_send("0912345678", "title", encoding="PUSH", wapurl=wapurl)
    assert "wapurl" in caught.value.rule


@pytest.mark.parametrize("wapurl", ["http://e.tw/x", "https://example.com/a?b=1&c=%20"])
def test_web_links_are_pushed(wapurl):
    assert validate_send("0912345678", "title", encoding="PUSH", wapurl=wapurl).wapurl == wapurl


@pytest.mark.parametrize("name", ["replyurl", "response"])
def test_callback_urls_hold_no_control_characters(name):
    with pytest.raises(OptionNotAllowedError, match=name):
        validate_send("0912345678", "hi", **{name: "https://e.tw/cb/\r\n/x"})


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x00", "U+0000 (NUL)"),
        ("\x07", "U+0007 (BEL)"),
        ("\t", "U+0009 (HT)"),
        ("\x0b", "U+000B (VT)"),
        ("\x1b", "U+001B (ESC)"),
        ("\x7f", "U+007F (DEL)"),
        ("\x85", "U+0085"),
        ("\x9b", "U+009B"),
    ],
)
def test_control_characters_in_the_text_are_refused_with_their_position(char, shown):
    body = "hello" + char + "world"
    with pytest.raises(ControlCharacterError) as caught:
        validate_send("0912345678", body)
    error = caught.value
    assert isinstance(error, UnencodableTextError)
    assert (error.char, error.position) == (char, 5)
    assert shown in str(error)
    assert "position 5" in str(error)


def test_the_first_control_character_is_named_and_the_count_given():
    with pytest.raises(ControlCharacterError) as caught:
        validate_send("0912345678", "a\x1b[31mred\x1b[0m\x07")
    assert caught.value.position == 1
    assert "3 control characters" in str(caught.value)


def test_a_push_title_is_checked_too():
    with pytest.raises(ControlCharacterError):
        validate_send("0912345678", "ti\x00tle", encoding="PUSH", wapurl="https://e.tw/")


@pytest.mark.parametrize(
    "body", ["line one\nline two", "line one\r\nline two", "a\rb", "簡訊\n測試"]
)
def test_line_breaks_are_kept(body):
    assert validate_send("0912345678", body).body == body


def test_nothing_is_sent_for_dangerous_content(primary, make_client):
    client = make_client(base_url(primary))
    with pytest.raises(ControlCharacterError):
        client.send("0912345678", "ring\x07")
    with pytest.raises(OptionNotAllowedError):
        client.send("0912345678", "title", encoding="PUSH", wapurl="javascript:alert(1)")
    assert primary.log == []

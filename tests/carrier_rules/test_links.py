"""Links found however they are written, and checked against the registered list."""

from __future__ import annotations

import pytest

from django_smsgo.services.carrier_rules.errors import UnregisteredLinkError
from django_smsgo.services.carrier_rules.links import (
    RegisteredLink,
    check_links,
    find_links,
    parse_registered_links,
)


def hosts(text: str) -> list[str]:
    return [link.host for link in find_links(text)]


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("請至 https://shop.example.com/a?b=1 看看", "shop.example.com"),
        ("請至https://shop.example.com/a。謝謝", "shop.example.com"),  # Chinese right after
        ("HTTPS://SHOP.EXAMPLE.COM/A", "shop.example.com"),
        ("www.shop.tw/sale", "www.shop.tw"),
        ("優惠 bit.ly/abc 快", "bit.ly"),  # bare, no scheme
        ("優惠bit.ly/abc", "bit.ly"),  # glued to Chinese
        ("shop.tw", "shop.tw"),
        ("SHOP.TW", "shop.tw"),
        ("ｂｉｔ．ｌｙ／ｘ", "bit.ly"),  # full-width letters, dot and slash
        ("ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ", "evil.com"),
        ("example。com", "example.com"),  # ideographic full stop
        ("example｡com", "example.com"),  # half-width ideographic full stop
        ("hxxps://evil.com/x", "evil.com"),
        ("hXXp://evil.com/x", "evil.com"),
        ("h**ps://evil.com/x", "evil.com"),
        ("hxxp[:]//evil.com", "evil.com"),
        ("evil[.]com/x", "evil.com"),
        ("evil(.)com", "evil.com"),
        ("evil{.}com", "evil.com"),
        ("evil[dot]com", "evil.com"),
        ("evil(dot)com", "evil.com"),
        ("evil (DOT) com", "evil.com"),
        ("evil(點)com", "evil.com"),
        ("evil . com", "evil.com"),  # spaces around the dot
        ("evil .com", "evil.com"),
        ("bit. ly/abc", "bit.ly"),  # a space after the dot, a path after
        ("http : // evil.com", "evil.com"),
        ("ev\u200bil.com/x", "evil.com"),  # zero-width space inside
        ("ev\u00adil.com/x", "evil.com"),  # soft hyphen inside
        ("1.2.3.4/x", "1.2.3.4"),
        ("http://1.2.3.4", "1.2.3.4"),
        ("reurl.cc/abc).", "reurl.cc"),  # sentence punctuation is not the link's
    ],
)
def test_links_are_found_however_written(text: str, host: str) -> None:
    assert hosts(text) == [host]


@pytest.mark.parametrize(
    "text",
    [
        "您的驗證碼為 123456",
        "Dear Mr.Li, your order is ready",  # a name after a dot, not a host
        "version 3.5.1 e.g. a.m.",
        "report.pdf is attached",
        "write to john.tw@example.com",  # e-mail addresses are not links here
        "I like it. Com see",  # a sentence end is not a spaced dot
        "2025.11.01",
    ],
)
def test_words_are_not_links(text: str) -> None:
    assert find_links(text) == []


def test_a_link_quotes_the_text_as_written() -> None:
    (link,) = find_links("快來 ｂｉｔ．ｌｙ／ｘ 搶購")
    assert link.link == "bit.ly/x"
    assert link.written == "ｂｉｔ．ｌｙ／ｘ"
    assert "快來 ｂｉｔ．ｌｙ／ｘ 搶購"[link.start : link.end] == link.written


def test_several_links_in_order() -> None:
    assert hosts("a https://one.example.com b two.example.com/x c") == [
        "one.example.com",
        "two.example.com",
    ]


def test_userinfo_trick_is_read_as_the_real_host() -> None:
    (link,) = find_links("https://shop.example.com@evil.example/x")
    assert link.host == "evil.example"


def test_backslash_trick_counts_both_readings() -> None:
    (link,) = find_links("https://shop.example.com\\@evil.example/x")
    assert set(link.hosts) == {"shop.example.com", "evil.example"}
    with pytest.raises(UnregisteredLinkError):
        check_links(link.written, registered=["shop.example.com"])


def test_rule_off_refuses_nothing() -> None:
    assert [link.host for link in check_links("bit.ly/x", registered=None)] == ["bit.ly"]


def test_registered_host_passes_other_host_is_refused_naming_it() -> None:
    check_links("請至 https://shop.example.com/a", registered=["shop.example.com"])
    with pytest.raises(UnregisteredLinkError) as caught:
        check_links("請至 hxxps://evil[.]com/a", registered=["shop.example.com"])
    error = caught.value
    assert error.rule_code == "links"
    assert error.link == "https://evil.com/a"
    assert error.written == "hxxps://evil[.]com/a"
    assert "hxxps://evil[.]com/a" in str(error)
    assert "REGISTERED_LINKS" in str(error)


def test_short_links_are_named_as_such() -> None:
    with pytest.raises(UnregisteredLinkError) as caught:
        check_links("優惠 reurl.cc/abc", registered=["shop.example.com"])
    assert caught.value.short
    assert "short-link" in str(caught.value)


def test_a_registered_short_link_passes() -> None:
    check_links("優惠 reurl.cc/abc", registered=["reurl.cc/abc"])
    with pytest.raises(UnregisteredLinkError):
        check_links("優惠 reurl.cc/xyz", registered=["reurl.cc/abc"])


def test_an_empty_list_refuses_every_link() -> None:
    with pytest.raises(UnregisteredLinkError):
        check_links("shop.tw", registered=[])


def test_host_entries_are_exact_wildcards_cover_subdomains() -> None:
    with pytest.raises(UnregisteredLinkError):
        check_links("https://evil.shop.example.com", registered=["shop.example.com"])
    check_links(
        "https://a.shop.example.com https://shop.example.com", registered=["*.shop.example.com"]
    )
    with pytest.raises(UnregisteredLinkError):
        check_links("https://notshop.example.com", registered=["*.shop.example.com"])


def test_path_entries_are_prefixes() -> None:
    check_links("https://shop.example.com/promo/1", registered=["https://shop.example.com/promo"])
    with pytest.raises(UnregisteredLinkError):
        check_links("https://shop.example.com/other", registered=["shop.example.com/promo"])


def test_a_wap_push_url_is_checked_too() -> None:
    with pytest.raises(UnregisteredLinkError):
        check_links("看這裡", registered=["shop.example.com"], extra=["https://evil.example/x"])


def test_registered_entries_are_read_and_bad_ones_named() -> None:
    assert parse_registered_links(["Shop.Example.com."]) == (RegisteredLink("shop.example.com"),)
    with pytest.raises(ValueError, match="'/nohost'"):
        parse_registered_links(["/nohost"])

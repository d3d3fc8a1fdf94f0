"""The admin docs' screenshots: compose, confirmation, change list and message page, in English
and Traditional Chinese, on a desktop (1280 px) and a phone (390×844).

Run with ``SMSGO_DOCS_SCREENSHOTS=1`` to write them into ``docs/_static/admin/`` (what
``docs/admin.rst`` shows); otherwise they go to ``test-artifacts/admin/``, so an ordinary test run
never changes the docs. Each page is also checked for what it must show, so a screenshot of an
error page cannot slip into the docs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.models import BalanceSnapshot, Message
from tests.admin import test_browser as browser
from tests.admin.pictures import PICTURES
from tests.admin.test_browser import log_in, seed_a_week

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - depends on the machine
    Page = Any  # type: ignore[misc,assignment]

pytestmark = browser.pytestmark

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "zh-Hant": "zh-TW"}


# Chromium as the browser tests launch it (their fixture, shared).
chromium = browser.chromium


def save(page: Page, name: str, *, at: str = "") -> None:
    """The whole page on a desktop; on a phone the screen (390×844), from ``at`` when given."""
    PICTURES.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    phone = name.endswith("phone")
    if at:
        page.locator(at).scroll_into_view_if_needed()
        page.evaluate("(sel) => document.querySelector(sel).scrollIntoView()", at)
    else:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(PICTURES / f"{name}.png"), full_page=not phone)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", list(LOCALES))
def test_screenshots(
    chromium: Any,
    live_server: Any,
    gateway: Any,
    sender: Any,
    language: str,
    size: str,
) -> None:
    snapshot = BalanceSnapshot.objects.create(points=8_520)
    BalanceSnapshot.objects.filter(pk=snapshot.pk).update(
        checked_at=timezone.now() - timedelta(minutes=20)
    )
    biggest = seed_a_week(sender)
    context = chromium.new_context(
        locale=LOCALES[language],
        viewport=SIZES[size],
        timezone_id="Asia/Taipei",
        is_mobile=size == "phone",
        has_touch=size == "phone",
        device_scale_factor=1,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    base = live_server.url
    suffix = f"{language}-{size}"
    zh = language == "zh-Hant"

    log_in(page, base)
    expect(page.locator("#smsgo-dashboard")).to_be_visible()
    save(page, f"changelist-{suffix}")

    page.goto(f"{base}/admin/django_smsgo/message/add/")
    page.fill("#id_recipients", "0912-345-678\n912345678\n0922 333 444\n0933555666\n12345")
    page.fill(
        "#id_body",
        "【小島咖啡】會員您好，週年慶明天開始，全館八折，結帳再折 100 元。"
        if zh
        else "[Island Coffee] Our anniversary sale starts tomorrow: 20% off everything.",
    )
    page.select_option("#id_kind", "transactional")
    expect(page.locator("#smsgo-number-check")).to_contain_text("12345")
    page.check("#id_drop_invalid")
    save(page, f"compose-{suffix}")
    if size == "phone":
        save(page, f"compose-text-{suffix}", at="#smsgo-text-section")

    page.click("input[name=_send]")
    expect(page.locator("#smsgo-confirm-figures [data-figure=recipients]")).to_have_text("3")
    save(page, f"confirm-{suffix}")
    page.click("#smsgo-confirm-form input[type=submit]")
    expect(page.locator("#smsgo-message-status")).to_be_visible()
    assert Message.objects.filter(status=Message.Status.DRAFT).count() == 0

    # The failed recipients: each with its reason and the gateway's state in words.
    page.goto(f"{base}/admin/django_smsgo/message/{biggest.pk}/change/?rstatus=failed")
    expect(page.locator("#smsgo-recipient-table")).to_be_visible()
    save(page, f"message-{suffix}")
    if size == "phone":
        save(page, f"message-recipients-{suffix}", at="#smsgo-recipients")
    context.close()
    for name in ("changelist", "compose", "confirm", "message"):
        assert re.fullmatch(r"[\w.-]+", f"{name}-{suffix}")
        assert (PICTURES / f"{name}-{suffix}.png").stat().st_size > 10_000

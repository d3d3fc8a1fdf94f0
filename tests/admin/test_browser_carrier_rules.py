"""The compose page shows each carrier rule live, in a real Chromium (docs/taiwan.rst)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from django_smsgo.admin.stats import TAIPEI
from django_smsgo.models import Message
from tests.admin import test_browser as browser
from tests.admin.test_browser import log_in, open_page, shot

# The browser tests' own fixtures and marks (Chromium, the live console).
pytestmark = browser.pytestmark
chromium = browser.chromium
console = browser.console

TAG = "【好物】"
FOOTER = " 退訂回覆STOP"


def window_around_now() -> tuple[list[tuple[str, str]], Any]:
    now = timezone.localtime(timezone.now(), TAIPEI)
    end = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    return [(f"{now - timedelta(hours=1):%H:%M}", f"{end:%H:%M}")], end


def test_compose_shows_every_rule_live_and_sends_held(
    chromium: Any, console: Any, gateway: Any, configure: Callable[..., None]
) -> None:
    window, end = window_around_now()
    configure(
        SENDER_TAG=TAG,
        SENDER_TAG_MODE="prefix",
        OPT_OUT_FOOTER=FOOTER,
        REGISTERED_LINKS=["shop.example.com"],
        REGISTERED_NUMBERS=["02-2345-6789"],
        QUIET_HOURS=window,
        POINTS_BUDGET={"marketing": {"day": 5}},
    )
    page = open_page(chromium, "en-US")
    log_in(page, console.url)
    page.goto(f"{console.url}/admin/django_smsgo/message/add/")
    counter = page.locator("#smsgo-counter")
    page.fill("#id_recipients", "0912000001\n0912000002")
    page.fill("#id_body", "全館八折 hxxps://bit[.]ly/x")

    # The refused link, named as written, and the text as it goes out.
    expect(counter.locator("[data-rule=links]")).to_contain_text("hxxps://bit[.]ly/x")
    expect(counter.locator("[data-rule=links]")).to_contain_text("short-link")
    expect(page.locator("#smsgo-preview")).to_have_text(f"{TAG}全館八折 hxxps://bit[.]ly/x{FOOTER}")
    expect(counter.locator("[data-counter=characters]")).to_have_text(
        str(len(f"{TAG}全館八折 hxxps://bit[.]ly/x{FOOTER}"))
    )
    # The quiet hours: held to the window's end.
    expect(counter.locator("[data-held]")).to_contain_text(f"{end:%Y-%m-%d %H:%M}")
    shot(page, "en-compose-carrier-rules")

    # A registered link and an unregistered number in any spelling.
    page.fill("#id_body", "全館八折 https://shop.example.com/a 洽 ０９１２－３４５－６７８")
    expect(counter.locator("[data-rule=links]")).to_have_count(0)
    expect(counter.locator("[data-rule=numbers]")).to_contain_text("０９１２－３４５－６７８")
    page.fill("#id_body", "全館八折 https://shop.example.com/a 洽 (02)2345-6789")
    expect(counter.locator("[data-rule]")).to_have_count(0)

    # The budget: 2 of 5 points, then 4 (80 %: a warning), then 6 (over: an error).
    expect(counter.locator("[data-budget]")).to_have_count(0)
    page.fill("#id_recipients", "0912000001\n0912000002\n0912000003\n0912000004")
    expect(counter.locator("[data-budget=day]")).to_contain_text("4 of 5")
    page.fill("#id_recipients", "\n".join(f"091200000{n}" for n in range(1, 7)))
    expect(counter.locator("[data-budget=day].smsgo-counter-error")).to_contain_text("6 of 5")
    page.fill("#id_recipients", "0912000001\n0912000002")

    # Transactional: no opt-out line, never held.
    page.select_option("#id_kind", "transactional")
    expect(page.locator("#smsgo-preview")).to_have_text(
        f"{TAG}全館八折 https://shop.example.com/a 洽 (02)2345-6789"
    )
    expect(counter.locator("[data-held]")).to_have_count(0)
    page.select_option("#id_kind", "marketing")
    expect(counter.locator("[data-held]")).to_have_count(1)

    page.click("input[name=_send]")
    expect(page.locator("#content-main")).to_contain_text("quiet hours")
    shot(page, "en-confirm-held")
    page.click("#smsgo-confirm-form input[type=submit]")
    message = Message.objects.get()
    assert message.body == f"{TAG}全館八折 https://shop.example.com/a 洽 (02)2345-6789{FOOTER}"
    assert message.send_at == end
    assert message.kind == Message.Kind.MARKETING
    expect(page.locator("#smsgo-message-status")).to_have_text("Scheduled")
    shot(page, "en-message-held")


def test_a_refused_rule_keeps_the_draft_from_being_saved(
    chromium: Any, console: Any, gateway: Any, configure: Callable[..., None]
) -> None:
    configure(SENDER_TAG=TAG, SENDER_TAG_MODE="require")
    page = open_page(chromium, "zh-TW")
    log_in(page, console.url)
    page.goto(f"{console.url}/admin/django_smsgo/message/add/")
    page.fill("#id_recipients", "0912000001")
    page.fill("#id_body", "驗證碼 1234")
    expect(page.locator("#smsgo-counter [data-rule=sender_tag]")).to_contain_text("未標示發送者")
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    assert Message.objects.count() == 0
    page.fill("#id_body", f"{TAG}驗證碼 1234")
    expect(page.locator("#smsgo-counter [data-rule]")).to_have_count(0)
    shot(page, "zh-compose-sender-tag")

"""Real-browser tests: Chromium driven by Playwright through the whole console.

A staff member logs in, composes with the live counter, sends to the bundled
simulator, sees the status turn delivered, schedules and cancels; in English
and in Traditional Chinese. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.admin.stats import TAIPEI
from django_smsgo.models import BalanceSnapshot, Message, Recipient
from tests.admin.conftest import send_requests

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make between browser steps are still plain synchronous ones.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def open_page(chromium: Any, locale: str, width: int = 1360) -> Page:
    context = chromium.new_context(
        locale=locale, viewport={"width": width, "height": 900}, timezone_id="Asia/Taipei"
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def console(live_server: Any, gateway: Any, settings: Any, sender: Any) -> Any:
    """The live site with the simulator as gateway, and a known balance."""
    BalanceSnapshot.objects.create(points=8_520)
    return live_server


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/django_smsgo/message/")
    page.fill("#id_username", "sender")
    page.fill("#id_password", "pw-not-secret")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/django_smsgo/message/$"))


def test_compose_send_and_see_it_delivered(chromium: Any, console: Any, gateway: Any) -> None:
    page = open_page(chromium, "en-US")
    base = console.url
    log_in(page, base)
    page.click("text=Compose SMS")
    page.fill("#id_recipients", "0912-345-678\n+886 922 333 444, 0933 555 666\n12345")
    page.fill("#id_body", "Your order #1042 has shipped and arrives tomorrow.")
    counter = page.locator("#smsgo-counter")
    expect(counter.locator("[data-counter=numbers]")).to_have_text("3")
    expect(counter.locator("[data-counter=points]")).to_have_text("3")
    expect(counter.locator("[data-counter=encoding]")).to_have_text("ASCII")
    expect(page.locator("#smsgo-number-check")).to_contain_text("12345")
    expect(page.locator("#smsgo-drop-invalid")).to_be_visible()
    expect(page.locator("#smsgo-preview")).to_have_text(
        "Your order #1042 has shipped and arrives tomorrow."
    )
    shot(page, "en-compose-invalid-number")

    page.click("input[name=_send]")  # refused: an invalid number is still listed
    expect(page.locator(".errornote")).to_be_visible()
    assert Message.objects.count() == 0
    page.fill("#id_recipients", "0912-345-678\n+886 922 333 444, 0933 555 666")
    expect(page.locator("#smsgo-number-check")).to_contain_text("3 valid numbers")
    expect(page.locator(".errornote")).to_have_count(0)  # the live check cleared the old error
    expect(page.locator("#smsgo-drop-invalid")).to_be_hidden()
    shot(page, "en-compose")

    page.click("input[name=_send]")
    expect(page.locator("[data-figure=sms]")).to_have_text("3")
    expect(page.locator("[data-figure=points]")).to_have_text("3")
    shot(page, "en-confirm-send")
    page.click("#smsgo-confirm-form input[type=submit]")

    message = Message.objects.get()
    expect(page.locator("#smsgo-message-status")).to_have_text("Submitted")
    assert len(send_requests(gateway)) == 1
    page.click("button[data-action=refresh_status]")
    expect(page.locator("#smsgo-message-status")).to_have_text("Completed")
    expect(page.locator("#smsgo-recipient-table")).to_contain_text("DELIVRD")
    assert set(message.recipients.values_list("status", flat=True)) == {Recipient.Status.DELIVERED}
    shot(page, "en-message-delivered")

    page.goto(f"{base}/admin/django_smsgo/message/")
    expect(page.locator(".smsgo-bar-counts").first).to_contain_text("3 delivered")
    shot(page, "en-changelist")


def test_schedule_and_cancel_in_chinese(chromium: Any, console: Any, gateway: Any) -> None:
    page = open_page(chromium, "zh-TW")
    base = console.url
    log_in(page, base)
    page.goto(f"{base}/admin/django_smsgo/message/add/")
    page.fill("#id_recipients", "0912345678\n0922333444")
    page.fill("#id_body", "親愛的會員您好，週年慶明天開始，全館八折。")
    expect(page.locator("#smsgo-counter [data-counter=encoding]")).to_have_text("BIG5")
    expect(page.locator("#smsgo-counter [data-counter=points]")).to_have_text("2")
    tomorrow = timezone.localtime(timezone.now(), TAIPEI) + timedelta(days=1)
    page.fill("#id_send_at_0", tomorrow.strftime("%Y-%m-%d"))
    page.fill("#id_send_at_1", "10:30")
    shot(page, "zh-compose-scheduled")
    page.click("input[name=_send]")
    shot(page, "zh-confirm-send")
    page.click("#smsgo-confirm-form input[type=submit]")

    message = Message.objects.get()
    expect(page.locator("#smsgo-message-status")).to_have_text("已排程")
    assert timezone.localtime(message.send_at, TAIPEI).strftime("%H:%M") == "10:30"
    shot(page, "zh-message-scheduled")
    page.click("button[data-action=cancel_messages]")
    shot(page, "zh-confirm-cancel")
    page.click("#smsgo-confirm-form input[type=submit]")
    expect(page.locator("#smsgo-message-status")).to_have_text("已取消")
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED
    shot(page, "zh-message-cancelled")
    page.goto(f"{base}/admin/django_smsgo/message/")
    shot(page, "zh-changelist")


def seed_a_week(sender: Any) -> Message:
    """A week of traffic: delivered, failed, uncertain, scheduled and draft messages."""
    now = timezone.now()
    texts = [
        ("您的驗證碼為 482913，5 分鐘內有效。", 40, (38, 2, 0), 6),
        ("Your parcel TW-88231 is out for delivery today.", 120, (111, 6, 3), 5),
        ("週年慶最後一天！全館八折，結帳再折 100 元。", 260, (241, 12, 0), 3),
        ("Reminder: your appointment is tomorrow at 10:30.", 75, (70, 2, 0), 2),
        ("會員您好，您的點數即將到期，請於月底前使用。", 180, (150, 8, 0), 1),
        ("Your table for 4 is ready. Please come to the front desk.", 30, (21, 0, 0), 0),
    ]
    biggest = None
    # A little before now, on the same Taiwan day (the summary counts by Taiwan
    # day: an hour back from 00:30 in Taipei would be the day before).
    midnight = timezone.localtime(now, TAIPEI).replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = min(timedelta(hours=1), (now - midnight) / 2)
    for body, count, (delivered, failed, uncertain), days_ago in texts:
        sent_at = now - timedelta(days=days_ago) - earlier
        waiting = count - delivered - failed - uncertain
        message = Message.objects.create(
            body=body,
            body_hash=f"seed-{body}",
            encoding="BIG5" if not body.isascii() else "ASCII",
            status=Message.Status.COMPLETED if not waiting else Message.Status.SUBMITTED,
            recipient_count=count,
            estimated_points=count,
            points_charged=count,
            created_by=sender,
            submitted_at=sent_at,
        )
        Message.objects.filter(pk=message.pk).update(created_at=sent_at)
        statuses = (
            [Recipient.Status.DELIVERED] * delivered
            + [Recipient.Status.FAILED] * failed
            + [Recipient.Status.UNCERTAIN] * uncertain
            + [Recipient.Status.SUBMITTED] * waiting
        )
        Recipient.objects.bulk_create(
            Recipient(
                message=message,
                phone=f"09{20_000_000 + days_ago * 1000 + n:08d}",
                status=status,
                gateway_status={"delivered": "DELIVRD", "failed": "UNDELIV"}.get(status, ""),
                gateway_statuscode=0,
                submitted_at=sent_at,
                final_at=sent_at + timedelta(seconds=8)
                if status in ("delivered", "failed")
                else None,
            )
            for n, status in enumerate(statuses)
        )
        if biggest is None or count > biggest.recipient_count:
            biggest = message
    scheduled = Message.objects.create(
        body="Flash sale starts Friday 9 am: 30% off everything.",
        body_hash="seed-scheduled",
        encoding="ASCII",
        status=Message.Status.SCHEDULED,
        recipient_count=500,
        estimated_points=500,
        created_by=sender,
        send_at=now + timedelta(days=2),
    )
    Recipient.objects.bulk_create(
        Recipient(message=scheduled, phone=f"09{30_000_000 + n:08d}", status="submitted")
        for n in range(500)
    )
    assert biggest is not None
    return biggest


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_a_busy_week_looks_right(chromium: Any, console: Any, sender: Any, locale: str) -> None:
    biggest = seed_a_week(sender)
    page = open_page(chromium, locale, width=1600)
    base = console.url
    log_in(page, base)
    prefix = "en" if locale == "en-US" else "zh"
    bars = page.locator("#result_list .smsgo-bar")
    expect(bars).to_have_count(7)
    expect(page.locator("#smsgo-summary .smsgo-chart-stack")).to_have_count(7)
    expect(page.locator("[data-figure=sent]")).to_have_text("705")
    shot(page, f"{prefix}-changelist-week")
    page.goto(f"{base}/admin/django_smsgo/message/{biggest.pk}/change/")
    expect(page.locator("#smsgo-recipient-table tbody tr")).to_have_count(50)
    expect(page.locator(".smsgo-pages")).to_contain_text("6")
    shot(page, f"{prefix}-message-page")

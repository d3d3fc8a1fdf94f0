"""The pictures of the send log and the exports in the docs (``docs/_static/admin/``).

Taken in Chromium on a small shop's week of SMS, in English and Traditional
Chinese, at 1280 px and on a 390×844 phone. Written where
:mod:`tests.admin.pictures` says: to refresh the docs' copies,
``SMSGO_DOCS_SCREENSHOTS=1 pytest tests/admin/test_screenshots_log.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from django_smsgo.admin.history import SENT, event
from django_smsgo.models import Message, Recipient
from django_smsgo.reasons import Reason
from tests.admin import test_browser as browser
from tests.admin.pictures import PICTURES
from tests.admin.test_browser import log_in

# The browser tests' own fixtures and marks (Chromium, the live console).
pytestmark = browser.pytestmark
chromium = browser.chromium
console = browser.console

R = Recipient.Status

TEXTS = [  # oldest first, as they were written
    ("【小日子咖啡】您的預約已確認：12/6（六）14:00，共 4 位。如需取消請回覆 0。", 0, 3),
    ("Your order #1042 has shipped and arrives tomorrow. Track: sho.pe/t/1042", 1, 2),
    ("【小日子咖啡】會員您好，耶誕限定草莓拿鐵今天開賣，出示簡訊享第二杯半價。", 0, 1),
]
OUTCOMES = [
    (R.DELIVERED, "DELIVRD", "", {}),
    (R.DELIVERED, "DELIVRD", "", {}),
    (R.FAILED, "UNDELIV", Reason.FINAL_STATE, {"state": "UNDELIV"}),
    (R.DELIVERED, "DELIVRD", "", {}),
    (R.FAILED, "EXPIRED", Reason.FINAL_STATE, {"state": "EXPIRED"}),
    (R.SUBMITTED, "", "", {}),
    (R.DELIVERED, "DELIVRD", "", {}),
    (R.CANCELLED, "", Reason.SUPPRESSED, {}),
]


def a_week(staff: list[Any]) -> Message:
    """Three messages of two staff members over three days; the newest one's history logged."""
    now = timezone.now()
    newest = None
    number = 0
    for body, author, days_ago in TEXTS:
        sent_at = now - timedelta(days=days_ago, hours=2)
        message = Message.objects.create(
            body=body,
            body_hash=f"shot-{days_ago}",
            encoding="BIG5" if not body.isascii() else "ASCII",
            status=Message.Status.SUBMITTED,
            recipient_count=len(OUTCOMES),
            estimated_points=len(OUTCOMES) * (2 if len(body) > 70 else 1),
            points_charged=len(OUTCOMES),
            created_by=staff[author],
            submitted_at=sent_at,
        )
        Message.objects.filter(pk=message.pk).update(created_at=sent_at - timedelta(minutes=5))
        for status, code, reason, params in OUTCOMES:
            Recipient.objects.create(
                message=message,
                phone=f"09{[12, 22, 33, 55, 78, 88, 91, 63][number % 8]}{345_678 + number:06d}",
                status=status,
                gateway_status=code,
                gateway_statuscode=0 if code else None,
                reason_code=reason,
                reason_params=params,
                submitted_at=sent_at,
                final_at=sent_at + timedelta(seconds=9 + number) if code else None,
            )
            number += 1
        Recipient.objects.filter(message=message).update(created_at=sent_at)
        newest = message
    assert newest is not None
    kind = ContentType.objects.get_for_model(Message)
    for flag, words, user, minutes in (
        (ADDITION, [{"added": {}}], staff[0], 5),
        (CHANGE, event(SENT, recipients=len(OUTCOMES)), staff[1], 0),
    ):
        entry = LogEntry.objects.create(
            user=user,
            content_type=kind,
            object_id=str(newest.pk),
            object_repr=str(newest)[:200],
            action_flag=flag,
            change_message=json.dumps(words),
        )
        LogEntry.objects.filter(pk=entry.pk).update(
            action_time=newest.submitted_at - timedelta(minutes=minutes)
        )
    return newest


@pytest.fixture
def shop(console: Any, sender: Any, make_staff: Any) -> tuple[Any, Message]:
    colleague = make_staff("view_message", "add_message", "send_sms", username="mei.lin")
    return console, a_week([sender, colleague])


def page_at(chromium: Any, locale: str, width: int, height: int) -> Any:
    context = chromium.new_context(
        locale=locale, viewport={"width": width, "height": height}, timezone_id="Asia/Taipei"
    )
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.parametrize(("locale", "suffix"), [("en-US", "en"), ("zh-TW", "zh-Hant")])
def test_pictures_of_the_send_log_and_the_exports(
    chromium: Any, shop: tuple[Any, Message], locale: str, suffix: str
) -> None:
    server, message = shop
    PICTURES.mkdir(parents=True, exist_ok=True)
    log = f"{server.url}/admin/django_smsgo/message/log/"
    page = f"{server.url}/admin/django_smsgo/message/{message.pk}/change/"
    for name, width, height, url in (
        ("send-log", 1280, 1000, log),
        ("send-log-phone", 390, 844, log),
        ("export", 1280, 1000, page),
        ("export-phone", 390, 844, page),
    ):
        browser_page = page_at(chromium, locale, width, height)
        log_in(browser_page, server.url)
        if name == "export":
            # Django's sidebar is sticky: in a full-page picture it floats mid-page.
            browser_page.evaluate("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        browser_page.goto(url)
        browser_page.locator("#smsgo-export").wait_for()
        if name == "export":
            browser_page.locator("#smsgo-history").scroll_into_view_if_needed()
            browser_page.screenshot(path=str(PICTURES / f"{name}.{suffix}.png"), full_page=True)
        else:
            browser_page.screenshot(path=str(PICTURES / f"{name}.{suffix}.png"))
        browser_page.context.close()
        assert (PICTURES / f"{name}.{suffix}.png").stat().st_size > 10_000

"""The send log, its exports and the message list in a real browser (Chromium), in both languages.

A staff member opens the log from the message list, finds a number, narrows
by status, sender and days, pages through, downloads the log and a message's
recipients as CSV and XLSX, and reads the message list at 1280 px and on a
phone (390×844) without scrolling sideways.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from django_smsgo.services.send_log import TAIPEI
from tests.admin import test_browser as browser
from tests.admin.log_data import seed
from tests.admin.test_browser import log_in, open_page

# The browser tests' own fixtures and marks (Chromium, the live console).
pytestmark = browser.pytestmark
chromium = browser.chromium
console = browser.console

WORDS = {
    "en-US": {
        "log": "Send log",
        "search": "Search",
        "failed": "Failed",
        "delivered": "Delivered",
        "count": "120 recipients",
        "older": "Older",
        "newer": "Newer",
        "bad_number": "is not a phone number",
        "headings": ["Message", "Phone", "Text", "Status"],
        "sent": "Sent (Taiwan)",
        "export_message": "Export the recipients",
    },
    "zh-TW": {
        "log": "發送紀錄",
        "search": "搜尋",
        "failed": "失敗",
        "delivered": "已送達",
        "count": "120 位收件人",
        "older": "較舊",
        "newer": "較新",
        "bad_number": "不是電話號碼",
        "headings": ["簡訊", "電話", "內容", "狀態"],
        "sent": "傳送時間（台灣時間）",
        "export_message": "匯出收件人",
    },
}


@pytest.fixture
def logged(console: Any, sender: Any, make_staff: Any) -> Any:
    """120 recipients in two messages of two senders, a day apart."""
    other = make_staff("view_message", username="other")
    start = timezone.now() - timedelta(days=3)
    seed(120, per_message=60, senders=[sender, other], start=start)
    return console


def rows(page: Page) -> Any:
    return page.locator("#smsgo-log-table tbody tr")


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_search_and_filter_the_send_log(chromium: Any, logged: Any, locale: str) -> None:
    words = WORDS[locale]
    page = open_page(chromium, locale)
    log_in(page, logged.url)
    page.click("#smsgo-send-log-link")
    expect(page.locator("h1")).to_have_text(words["log"])
    expect(page.locator("#smsgo-log-count")).to_have_text(words["count"])
    expect(rows(page)).to_have_count(50)
    expect(rows(page).first).to_contain_text("0910000119")

    page.click(f"#smsgo-log-pages >> text={words['older']}")
    expect(rows(page).first).to_contain_text("0910000069")
    page.click(f"#smsgo-log-pages >> text={words['newer']}")
    expect(rows(page).first).to_contain_text("0910000119")

    page.fill("#id_q", "0910-000-007")
    page.click(f"input[type=submit][value='{words['search']}']")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("0910000007")
    expect(rows(page).first).to_contain_text(words["failed"])
    expect(rows(page).first).to_contain_text("UNDELIV")

    page.fill("#id_q", "")
    page.select_option("#id_status", "delivered")
    page.select_option("#id_sender", label="other")
    page.click(f"input[type=submit][value='{words['search']}']")
    expect(rows(page)).to_have_count(24)  # the second message: 60 rows, 2 of every 5 delivered
    for text in rows(page).all_inner_texts():
        assert words["delivered"] in text
        assert "other" in text

    first_day = timezone.localtime(timezone.now() - timedelta(days=3), TAIPEI).date()
    page.select_option("#id_sender", "")
    page.fill("#id_since", first_day.isoformat())
    page.fill("#id_until", first_day.isoformat())
    page.click(f"input[type=submit][value='{words['search']}']")
    expect(rows(page)).to_have_count(24)  # the first message's day only
    expect(rows(page).first).to_contain_text("sender")

    page.fill("#id_q", "abc")
    page.click(f"input[type=submit][value='{words['search']}']")
    expect(page.locator("[data-field=q] .errorlist")).to_contain_text(words["bad_number"])
    expect(rows(page)).to_have_count(0)


def downloaded(page: Page, selector: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(str(target))
    return target


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_download_the_exports(chromium: Any, logged: Any, locale: str, tmp_path: Path) -> None:
    words = WORDS[locale]
    page = open_page(chromium, locale)
    log_in(page, logged.url)
    page.goto(f"{logged.url}/admin/django_smsgo/message/log/?status=failed")
    expect(rows(page)).to_have_count(24)

    as_csv = downloaded(page, "#smsgo-export [data-export=csv]", tmp_path)
    assert as_csv.name.startswith("smsgo-send-log-")
    assert as_csv.suffix == ".csv"
    table = list(csv.reader(io.StringIO(as_csv.read_text(encoding="utf-8-sig"))))
    assert table[0][:4] == words["headings"]
    assert len(table) == 25  # the headings and the 24 failed, as filtered
    assert {row[3] for row in table[1:]} == {words["failed"]}

    as_xlsx = downloaded(page, "#smsgo-export [data-export=xlsx]", tmp_path)
    sheet = openpyxl.load_workbook(as_xlsx).active
    assert [c.value for c in sheet[1]][6] == words["sent"]
    assert sheet.max_row == 25

    page.click("#smsgo-log-table tbody tr >> nth=0 >> .smsgo-log-message")
    expect(page.locator("#smsgo-export")).to_contain_text(words["export_message"])
    recipients = downloaded(page, "#smsgo-export [data-export=xlsx]", tmp_path)
    assert recipients.name.startswith("smsgo-message-")
    assert openpyxl.load_workbook(recipients).active.max_row == 61


def overflow(page: Page) -> dict[str, int]:
    return page.evaluate(
        """() => {
            const results = document.querySelector('#changelist .results');
            return {
                page: document.documentElement.scrollWidth - window.innerWidth,
                table: results.scrollWidth - results.clientWidth,
            };
        }"""
    )


def right_edge(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["x"] + box["width"]


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_the_message_list_fits_1280_and_a_phone(chromium: Any, logged: Any, locale: str) -> None:
    desk = open_page(chromium, locale, width=1280)
    log_in(desk, logged.url)
    assert overflow(desk) == {"page": 0, "table": 0}
    for column in ("recipients", "points", "status_badge", "schedule", "sent"):
        assert right_edge(desk, f"#result_list th.column-{column}") <= 1280, column
        expect(desk.locator(f"#result_list td.field-{column}").first).to_be_visible()

    phone = desk.context.browser.new_context(
        locale=locale, viewport={"width": 390, "height": 844}, timezone_id="Asia/Taipei"
    ).new_page()
    log_in(phone, logged.url)
    assert overflow(phone)["page"] == 0
    for column in ("recipients", "status_badge"):
        expect(phone.locator(f"#result_list td.field-{column}").first).to_be_visible()
        assert right_edge(phone, f"#result_list td.field-{column}") <= 390, column
    phone.goto(f"{logged.url}/admin/django_smsgo/message/log/")
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0
    expect(rows(phone).first).to_be_visible()

"""A saved text (常用簡訊) chosen in compose, filled in from a CSV, in a real Chromium.

The staff member chooses the saved text, uploads a CSV with a name column,
reads the counter of the longest filled-in text, confirms and sends: each
distinct text reaches the simulator once, in English and in Traditional Chinese.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from django_smsgo.models import Message, SavedText
from django_smsgo.services.personalising import estimate_personalised
from tests.admin import test_browser as browser
from tests.admin.conftest import send_requests
from tests.admin.test_browser import log_in, open_page, shot

pytestmark = browser.pytestmark
chromium = browser.chromium
console = browser.console

TEXT = (
    "{name}您好：您在好物商店訂購的商品已送達台北中山門市，"
    "取貨碼 {code}，請於三日內攜帶身分證件至一樓櫃檯取貨，謝謝您。"
)
ROWS = [
    ("0912000001", "王先生", "A17"),
    ("0912000002", "林小姐", "B22"),
    ("0912000003", "王先生", "A17"),
    ("0912000004", "台灣好物股份有限公司採購部陳經理", "C3051"),
]
CSV = ("手機,name,code\n" + "".join(f"{p},{n},{c}\n" for p, n, c in ROWS)).encode()
LONGEST = TEXT.format(name=ROWS[3][1], code=ROWS[3][2])


def saved_text() -> SavedText:
    return SavedText.objects.create(name="取貨通知 Pickup", body=TEXT, kind="transactional")


def choose_and_upload(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/django_smsgo/message/add/")
    page.select_option("#id_saved_text", label="取貨通知 Pickup")
    expect(page.locator("#id_body")).to_have_value(TEXT)
    # Before the file: the placeholders are named, and no error is shown yet.
    counter = page.locator("#smsgo-counter")
    expect(counter.locator(".smsgo-placeholders")).to_contain_text("{name} {code}")
    expect(counter.locator("[data-counter=text-error]")).to_have_count(0)
    page.set_input_files(
        "#id_recipients_file",
        files=[{"name": "customers.csv", "mimeType": "text/csv", "buffer": CSV}],
    )


@pytest.mark.parametrize(
    ("locale", "texts_line", "confirm"),
    [
        ("en-US", "3 distinct texts once filled in", "Yes, send them"),
        ("zh-TW", "填入後共有 3 種內容", "是，傳送"),
    ],
)
def test_a_saved_text_counts_the_longest_text_and_sends_each_text_once(
    chromium: Any, console: Any, gateway: Any, locale: str, texts_line: str, confirm: str
) -> None:
    saved_text()
    expected = estimate_personalised(
        TEXT,
        [(p, {"name": n, "code": c}) for p, n, c in ROWS],
        kind="transactional",
    )
    assert expected.body == LONGEST
    assert expected.segments == 2  # the longest text needs two SMS; the others one

    page = open_page(chromium, locale)
    log_in(page, console.url)
    choose_and_upload(page, console.url)
    counter = page.locator("#smsgo-counter")
    expect(counter.locator("[data-counter=characters]")).to_have_text(str(len(LONGEST)))
    expect(counter.locator("[data-counter=segments]")).to_have_text("2")
    expect(counter.locator("[data-counter=encoding]")).to_have_text(expected.encoding or "")
    expect(counter.locator("[data-counter=numbers]")).to_have_text("4")
    expect(counter.locator("[data-counter=points]")).to_have_text(str(expected.points))
    expect(counter.locator("[data-counter=texts]")).to_contain_text(texts_line)
    expect(page.locator("#smsgo-preview")).to_have_text(LONGEST)
    shot(page, f"{locale}-compose-saved-text")

    page.click("input[name=_send]")
    expect(page.locator("#content")).to_contain_text(LONGEST[:20])
    assert Message.objects.count() == 3  # one draft per distinct text
    page.click(f"#smsgo-confirm-form input[type=submit][value='{confirm}']")
    page.wait_for_url("**/message/?id__in=*")
    sent = sorted(
        (r["params"]["smbody"], len(r["params"]["dstaddr"].split(",")))
        for r in send_requests(gateway)
    )
    assert sent == sorted(
        [
            (TEXT.format(name="王先生", code="A17"), 2),
            (TEXT.format(name="林小姐", code="B22"), 1),
            (LONGEST, 1),
        ]
    )


@pytest.mark.parametrize(
    ("locale", "words"), [("en-US", "has no value for 1 recipient"), ("zh-TW", "位收件人沒有值")]
)
def test_a_missing_value_is_named_and_nothing_is_saved(
    chromium: Any, console: Any, locale: str, words: str
) -> None:
    saved_text()
    page = open_page(chromium, locale)
    log_in(page, console.url)
    page.goto(f"{console.url}/admin/django_smsgo/message/add/")
    page.select_option("#id_saved_text", label="取貨通知 Pickup")
    page.set_input_files(
        "#id_recipients_file",
        files=[
            {
                "name": "customers.csv",
                "mimeType": "text/csv",
                "buffer": "手機,name,code\n0912000001,王先生,A17\n0912000002,,B22\n".encode(),
            }
        ],
    )
    counter = page.locator("#smsgo-counter")
    expect(counter.locator("[data-counter=text-error]")).to_contain_text("{name}")
    expect(counter.locator("[data-counter=text-error]")).to_contain_text(words)
    page.click("input[name=_save]")
    expect(page.locator("#smsgo-field-body .errorlist")).to_contain_text("0912000002")
    assert not Message.objects.exists()

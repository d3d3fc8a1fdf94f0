"""The console as staff use it, in Chromium: nothing broken, no misleading figure, every word
in the reader's language (issue 16's "Broken" and "Misleading figures").

Each test drives the real compose page, confirmation, change list or message page against the
bundled simulator, in English and Traditional Chinese where words matter.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.admin.stats import TAIPEI
from django_smsgo.backends import get_backend
from django_smsgo.models import BalanceSnapshot, Message, Recipient
from tests.admin import test_browser as browser
from tests.admin.test_browser import log_in, open_page

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - depends on the machine
    Page = Any  # type: ignore[misc,assignment]

pytestmark = browser.pytestmark


# Chromium as the browser tests launch it (their fixture, shared).
chromium = browser.chromium


@pytest.fixture
def console(live_server: Any, gateway: Any, settings: Any, sender: Any) -> Any:
    """The live site with the simulator as gateway, and a balance asked a while ago."""
    snapshot = BalanceSnapshot.objects.create(points=8_520)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    BalanceSnapshot.objects.filter(pk=snapshot.pk).update(checked_at=an_hour_ago)
    return live_server


LOCALES = ["en-US", "zh-TW"]
ADD = "/admin/django_smsgo/message/add/"
LIST = "/admin/django_smsgo/message/"

#: Three SMS per recipient in ASCII (a long SMS of 153-character parts).
THREE_PARTS = ("Dear member, our anniversary sale starts tomorrow. " * 6) + "See you there!"


def zh(locale: str) -> bool:
    return locale.startswith("zh")


def settle(page: Page) -> None:
    """Wait until the page's own requests (the live counter) are answered."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # the counter's debounce, then its answer
    page.wait_for_load_state("networkidle")


def compose(page: Page, base: str) -> None:
    page.goto(f"{base}{ADD}")
    settle(page)


# -- Broken --------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_a_refused_upload_keeps_its_numbers_and_its_error(
    chromium: Any, console: Any, locale: str
) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.set_input_files(
        "#id_recipients_file",
        files=[
            {
                "name": "members.csv",
                "mimeType": "text/csv",
                "buffer": "手機\n0912345678\n0922333444\n12345\n".encode(),
            }
        ],
    )
    page.fill("#id_body", "Your order has shipped.")
    page.click("input[name=_save]")
    settle(page)
    assert Message.objects.count() == 0
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#smsgo-field-recipients .errorlist")).to_be_visible()
    expect(page.locator("#smsgo-number-check")).to_contain_text("12345")
    expect(page.locator("#smsgo-number-check")).to_contain_text(
        "台灣手機號碼為 09 加 8 位數字" if zh(locale) else "09 followed by 8 digits"
    )
    expect(page.locator("#smsgo-file-kept")).to_contain_text("3")
    value = page.input_value("#id_recipients")
    for number in ("0912345678", "0922333444", "12345"):
        assert number in value
    expect(page.locator("[data-counter=numbers]")).to_have_text("2")
    page.check("#id_drop_invalid")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/change/$"))
    assert Message.objects.get().recipient_count == 2


def test_a_duplicate_refusal_after_an_upload_stays_visible(
    chromium: Any, console: Any, sender: Any
) -> None:
    from django_smsgo.services.sending import create_draft, queue_message

    queue_message(create_draft(["0912345678"], "Your order has shipped.", created_by=sender))
    page = open_page(chromium, "zh-TW")
    log_in(page, console.url)
    compose(page, console.url)
    page.set_input_files(
        "#id_recipients_file",
        files=[{"name": "a.csv", "mimeType": "text/csv", "buffer": b"0912345678\n"}],
    )
    page.fill("#id_body", "Your order has shipped.")
    page.click("input[name=_save]")
    settle(page)
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#smsgo-field-recipients .errorlist")).to_contain_text("0912345678")
    assert "0912345678" in page.input_value("#id_recipients")
    expect(page.locator("#id_allow_duplicate")).to_be_visible()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_schedule_in_the_past_is_said_in_words(chromium: Any, console: Any, locale: str) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678")
    page.fill("#id_body", "您的驗證碼為 123456。")
    page.select_option("#id_kind", "transactional")
    yesterday = timezone.localtime(timezone.now(), TAIPEI) - timedelta(days=1)
    page.fill("#id_send_at_0", yesterday.strftime("%Y-%m-%d"))
    page.fill("#id_send_at_1", "09:00")
    page.click("input[name=_save]")
    settle(page)
    error = page.locator("#smsgo-field-send_at .errorlist")
    expect(error).to_be_visible()
    text = error.inner_text()
    for python in ("datetime", "tzinfo", "send_at"):
        assert python not in text
    assert yesterday.strftime("%Y-%m-%d") + " 09:00" in text
    if zh(locale):
        assert "過去" in text or "未來" in text, text
    else:
        assert "past" in text or "future" in text, text
    assert Message.objects.count() == 0


# -- Misleading figures ----------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_the_confirmation_counts_sms_points_and_who_is_left_out(
    chromium: Any, console: Any, locale: str
) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678\n0922333444\n0933555666\n12345")
    page.fill("#id_body", THREE_PARTS)
    page.select_option("#id_kind", "transactional")
    settle(page)
    page.check("#id_drop_invalid")
    page.click("input[name=_send]")
    figures = page.locator("#smsgo-confirm-figures")
    expect(figures.locator("[data-figure=recipients]")).to_have_text("3")
    expect(figures.locator("[data-figure=segments]")).to_have_text("3")
    expect(figures.locator("[data-figure=sms]")).to_have_text("9")
    expect(figures.locator("[data-figure=points]")).to_have_text("9")
    left_out = page.locator("#smsgo-left-out")
    expect(left_out).to_contain_text("12345")
    expect(left_out).to_contain_text("4 個號碼中 1 個不傳送" if zh(locale) else "1 of 4 left out")
    balance = page.locator("#smsgo-confirm-balance")
    expect(balance).to_contain_text(f"{get_backend().balance():,}")
    expect(balance).to_contain_text("截至" if zh(locale) else "as of")
    assert "one per recipient" not in page.content()


def test_after_a_send_the_balance_is_current(chromium: Any, console: Any) -> None:
    page = open_page(chromium, "en-US")
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678\n0922333444\n0933555666")
    page.fill("#id_body", THREE_PARTS)
    page.select_option("#id_kind", "transactional")
    page.click("input[name=_send]")
    page.click("#smsgo-confirm-form input[type=submit]")
    expect(page.locator("#smsgo-message-status")).to_have_text("Submitted")
    page.goto(f"{console.url}{LIST}")
    card = page.locator("#smsgo-balance")
    expect(card.locator(".smsgo-figure")).to_contain_text(f"{get_backend().balance():,}")


@pytest.mark.parametrize("locale", LOCALES)
def test_cancel_says_the_points_that_come_back_and_the_list_what_it_cost(
    chromium: Any, console: Any, locale: str
) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678\n0922333444")
    page.fill("#id_body", THREE_PARTS)
    page.select_option("#id_kind", "transactional")
    tomorrow = timezone.localtime(timezone.now(), TAIPEI) + timedelta(days=1)
    page.fill("#id_send_at_0", tomorrow.strftime("%Y-%m-%d"))
    page.fill("#id_send_at_1", "10:30")
    page.click("input[name=_send]")
    page.click("#smsgo-confirm-form input[type=submit]")
    message = Message.objects.get()
    expect(page.locator("#smsgo-message-status")).to_have_text(
        "已排程" if zh(locale) else "Scheduled"
    )
    message.refresh_from_db()
    assert message.points_charged == 6
    page.click("button[data-action=cancel_messages]")
    expect(page.locator("[data-figure=refund]")).to_have_text("6")
    page.click("#smsgo-confirm-form input[type=submit]")
    expect(page.locator("#smsgo-message-status")).to_have_text(
        "已取消" if zh(locale) else "Cancelled"
    )
    page.goto(f"{console.url}{LIST}")
    expect(page.locator("#result_list td.field-points").first).to_have_text("0")


def test_the_week_counts_sms_not_recipients(chromium: Any, console: Any, sender: Any) -> None:
    now = timezone.now()
    message = Message.objects.create(
        body=THREE_PARTS,
        body_hash="three-parts",
        encoding="LASCI",
        segments=3,
        status=Message.Status.COMPLETED,
        recipient_count=2,
        estimated_points=6,
        points_charged=6,
        created_by=sender,
        submitted_at=now,
    )
    Recipient.objects.bulk_create(
        Recipient(
            message=message,
            phone=phone,
            status=Recipient.Status.DELIVERED,
            submitted_at=now,
            final_at=now,
        )
        for phone in ("0912345678", "0922333444")
    )
    page = open_page(chromium, "en-US")
    log_in(page, console.url)
    expect(page.locator("[data-figure=sent]")).to_have_text("6")


@pytest.mark.parametrize("locale", LOCALES)
def test_excel_numbers_are_taken_and_duplicates_are_named(
    chromium: Any, console: Any, locale: str
) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_body", "Hello")
    page.fill("#id_recipients", "912345678\n0912-345-678\n0922333444\n0922 333 444")
    settle(page)
    check = page.locator("#smsgo-number-check")
    expect(page.locator("[data-counter=numbers]")).to_have_text("2")
    expect(check.locator(".smsgo-invalid")).to_have_count(0)
    expect(check).to_contain_text("移除 2 個重複號碼" if zh(locale) else "2 duplicates removed")


@pytest.mark.parametrize("locale", LOCALES)
def test_no_text_error_before_typing_and_one_after(
    chromium: Any, console: Any, locale: str
) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678")
    settle(page)
    expect(page.locator(".smsgo-counter-error")).to_have_count(0)
    expect(page.locator(".errorlist")).to_have_count(0)
    page.click("input[name=_save]")
    settle(page)
    errors = page.locator("#smsgo-text-section .errorlist li, #smsgo-counter .smsgo-counter-error")
    expect(errors).to_have_count(1)
    text = errors.first.inner_text()
    if zh(locale):
        assert re.search(r"[A-Za-z]{3,}", text) is None, text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_draft_is_not_shown_as_queued_or_pending(
    chromium: Any, console: Any, sender: Any, locale: str
) -> None:
    from django_smsgo.services.sending import create_draft

    draft = create_draft(["0912345678", "0922333444"], "Hello", created_by=sender)
    page = open_page(chromium, locale)
    log_in(page, console.url)
    row = page.locator("#result_list tbody tr").first
    expect(row.locator(".smsgo-bar .pending")).to_have_count(0)
    expect(row.locator(".smsgo-bar-counts")).to_contain_text("未傳送" if zh(locale) else "not sent")
    page.goto(f"{console.url}{LIST}{draft.pk}/change/")
    badges = page.locator("#smsgo-recipient-table .smsgo-badge")
    expect(badges).to_have_count(2)
    for badge in badges.all():
        assert badge.inner_text() not in ("Queued", "佇列中", "已排入佇列")
    expect(page.locator(".smsgo-bar .pending")).to_have_count(0)


@pytest.mark.parametrize("locale", LOCALES)
def test_take_me_back_returns_to_an_editable_compose_form(
    chromium: Any, console: Any, locale: str
) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678\n0922333444")
    page.fill("#id_body", "週年慶明天開始，全館八折。")
    page.select_option("#id_kind", "transactional")
    page.select_option("#id_encoding", "UCS2")
    page.click("input[name=_send]")
    page.click("#smsgo-back")
    page.wait_for_url(re.compile(r"/add/"))
    assert page.input_value("#id_body") == "週年慶明天開始，全館八折。"
    assert "0922333444" in page.input_value("#id_recipients")
    assert page.input_value("#id_kind") == "transactional"
    assert page.input_value("#id_encoding") == "UCS2"
    expect(page.locator(".errorlist")).to_have_count(0)
    page.fill("#id_body", "週年慶明天開始，全館七折。")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/change/$"))
    assert list(Message.objects.values_list("body", flat=True)) == ["週年慶明天開始，全館七折。"]


@pytest.mark.parametrize("locale", LOCALES)
def test_without_the_send_permission_staff_read_what_they_can_do(
    chromium: Any, console: Any, make_staff: Any, sender: Any, locale: str
) -> None:
    from django_smsgo.services.sending import create_draft

    draft = create_draft(["0912345678"], "Hello", created_by=sender)
    make_staff("view_message", "add_message", username="writer")
    page = open_page(chromium, locale)
    page.goto(f"{console.url}/admin/login/?next={LIST}")
    page.fill("#id_username", "writer")
    page.fill("#id_password", "pw-not-secret")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/message/$"))
    compose(page, console.url)
    note = page.locator(".smsgo-submit-note")
    assert "Nothing is sent before you confirm" not in note.inner_text()
    expect(note).to_contain_text("草稿" if zh(locale) else "draft")
    page.goto(f"{console.url}{LIST}")
    # A crafted send: the action posted by hand.
    page.evaluate(
        """(pk) => {
            const form = document.createElement("form");
            form.method = "post";
            form.innerHTML = '<input name="action" value="send_messages">'
              + '<input name="_selected_action" value="' + pk + '">'
              + '<input name="csrfmiddlewaretoken" value="'
              + document.querySelector("[name=csrfmiddlewaretoken]").value + '">';
            document.body.appendChild(form);
            form.submit();
        }""",
        draft.pk,
    )
    page.wait_for_load_state("load")
    body = page.locator("#content")
    expect(body).to_be_visible()  # the admin's own page, with its header and menu
    text = body.inner_text()
    assert "403 Forbidden" not in page.content()
    for word in ("權限", "草稿") if zh(locale) else ("permission", "draft"):
        assert word in text
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT


# -- Compose hints ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_the_counter_names_what_makes_a_text_dear_and_fixes_full_width(
    chromium: Any, console: Any, locale: str
) -> None:
    page = open_page(chromium, locale)
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678")
    page.fill("#id_body", "Ｓａｌｅ ５０％ off today！")
    hint = page.locator("[data-hint=full-width]")
    expect(hint).to_contain_text("Ｓ")
    expect(page.locator("[data-counter=encoding]")).to_have_text("BIG5")
    expect(page.locator("[data-counter=left]")).to_contain_text("51")
    page.click("[data-half-width]")
    assert page.input_value("#id_body") == "Sale 50% off today!"
    expect(page.locator("[data-counter=encoding]")).to_have_text("ASCII")
    expect(page.locator("[data-counter=left]")).to_contain_text("141")
    expect(page.locator("[data-hint=full-width]")).to_have_count(0)
    page.fill("#id_body", "您好，您的包裹已送達 😀")
    ucs2 = page.locator("[data-hint=ucs2]")
    expect(ucs2).to_contain_text("U+1F600")
    expect(ucs2).to_contain_text("UCS2")
    expect(page.locator(".smsgo-encoding-words")).to_contain_text(
        "任何文字" if zh(locale) else "any script"
    )


# -- Every word in Chinese -------------------------------------------------------------------


def test_vendor_codes_read_as_words_with_the_code_beside(chromium: Any, console: Any) -> None:
    page = open_page(chromium, "zh-TW")
    log_in(page, console.url)
    compose(page, console.url)
    page.fill("#id_recipients", "0912345678")
    page.fill("#id_body", "您好，這是一則很長的通知。" * 6)
    page.select_option("#id_kind", "transactional")
    expect(page.locator("#smsgo-counter .smsgo-encoding")).to_contain_text("長簡訊，中文")
    expect(page.locator("#smsgo-counter [data-counter=encoding]")).to_have_text("LBIG5")
    page.click("input[name=_send]")
    page.click("#smsgo-confirm-form input[type=submit]")
    expect(page.locator("#smsgo-message-status")).to_have_text("已送出")
    page.click("button[data-action=refresh_status]")
    expect(page.locator("#smsgo-message-status")).to_have_text("已完成")
    table = page.locator("#smsgo-recipient-table")
    expect(table).to_contain_text("已送達")
    expect(table).to_contain_text("DELIVRD")
    expect(page.locator("#smsgo-reports")).to_contain_text("向閘道查詢")
    expect(page.locator(".smsgo-facts")).to_contain_text("長簡訊，中文")

"""Screenshots of compose with a saved text chosen, for docs/admin.rst, in both languages.

Written where :mod:`tests.admin.pictures` says (the docs only with
``SMSGO_DOCS_SCREENSHOTS=1``). The page is checked before it is taken, so a
screenshot never shows a broken counter.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.admin import test_browser as browser
from tests.admin.pictures import save_picture
from tests.admin.test_browser import log_in, open_page
from tests.admin.test_browser_saved_texts import LONGEST, choose_and_upload, saved_text

pytestmark = browser.pytestmark
chromium = browser.chromium
console = browser.console


@pytest.mark.parametrize(("locale", "suffix"), [("en-US", ""), ("zh-TW", ".zh-Hant")])
def test_compose_with_a_saved_text(chromium: Any, console: Any, locale: str, suffix: str) -> None:
    saved_text()
    page = open_page(chromium, locale, width=1280)
    log_in(page, console.url)
    choose_and_upload(page, console.url)
    expect(page.locator("#smsgo-counter [data-counter=texts]")).to_be_visible()
    expect(page.locator("#smsgo-preview")).to_have_text(LONGEST)
    name = f"compose-saved-text{suffix}"
    save_picture(page, name)


@pytest.mark.parametrize(("locale", "suffix"), [("en-US", ""), ("zh-TW", ".zh-Hant")])
def test_the_list_of_saved_texts(
    chromium: Any, console: Any, sender: Any, locale: str, suffix: str
) -> None:
    from django.contrib.auth.models import Permission

    from django_smsgo.models import SavedText

    sender.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_savedtext", "add_savedtext"])
    )
    saved_text()
    SavedText.objects.create(
        name="驗證碼 Code", body="您的驗證碼為 {code}，5 分鐘內有效。", kind="transactional"
    )
    SavedText.objects.create(
        name="週年慶 Sale", body="{name}您好，週年慶全館八折，{store}門市等您。", kind="marketing"
    )
    page = open_page(chromium, locale, width=1280)
    log_in(page, console.url)
    page.goto(f"{console.url}/admin/django_smsgo/savedtext/")
    expect(page.locator("#result_list")).to_contain_text("{store}")
    name = f"saved-texts{suffix}"
    save_picture(page, name)

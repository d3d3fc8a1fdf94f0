"""Saved texts (常用簡訊) in the admin: managed, chosen in compose, filled in from the file."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from django_smsgo.models import Message, SavedText
from tests.admin.conftest import ADD, ESTIMATE, send_requests

SAVED = "/admin/django_smsgo/savedtext/"


def csv_upload(text: str, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


CUSTOMERS = "phone,name,code\n0912345678,Amy,A1\n0912345679,Amy,A1\n0912345670,Bartholomew,B2\n"


@pytest.fixture
def order_text(db: Any) -> SavedText:
    return SavedText.objects.create(
        name="Order ready", body="Hi {name}, your order {code} is ready.", kind="transactional"
    )


def compose(client: Any, saved: SavedText | None, **data: Any) -> Any:
    fields: dict[str, Any] = {
        "recipients": "",
        "body": saved.body if saved else "Hello",
        "encoding": "",
        "kind": "transactional",
        "idempotency_key": "",
        "saved_text": saved.pk if saved else "",
    }
    fields.update(data)
    return fields


@pytest.fixture
def staff_with_texts(make_staff: Any) -> Any:
    return make_staff(
        "view_message",
        "add_message",
        "send_sms",
        "add_savedtext",
        "change_savedtext",
        "view_savedtext",
        username="sender",
    )


# --- managing them ----------------------------------------------------------------------------


def test_a_saved_text_is_added_with_its_placeholders_listed(client_as, staff_with_texts):
    client = client_as(staff_with_texts)
    response = client.post(
        f"{SAVED}add/", {"name": "Code", "body": "Your code is {code}.", "kind": "transactional"}
    )
    assert response.status_code == 302
    saved = SavedText.objects.get()
    assert saved.created_by == staff_with_texts
    listing = client.get(SAVED).content.decode()
    assert "<code>{code}</code>" in listing


def test_braces_that_are_no_placeholder_are_refused_in_both_languages(client_as, staff_with_texts):
    client = client_as(staff_with_texts)
    data = {"name": "Bad", "body": "Hi {name", "kind": "marketing"}
    english = client.post(f"{SAVED}add/", data).content.decode()
    assert "a “{” without its “}”" in english
    chinese = client.post(f"{SAVED}add/", data, HTTP_ACCEPT_LANGUAGE="zh-TW").content.decode()
    assert "佔位符" in chinese
    assert "without" not in chinese
    assert not SavedText.objects.exists()


# --- in compose -------------------------------------------------------------------------------


def test_compose_offers_the_saved_texts_with_their_text(client_as, sender, order_text):
    content = client_as(sender).get(ADD).content.decode()
    assert 'name="saved_text"' in content
    assert 'data-body="Hi {name}, your order {code} is ready."' in content
    assert "saved_texts.js" in content


def test_the_counter_shows_the_longest_filled_in_text(client_as, sender, order_text):
    data = compose(client_as(sender), order_text, recipients_file=csv_upload(CUSTOMERS))
    answer = client_as(sender).post(ESTIMATE, data).json()
    assert answer["body"] == "Hi Bartholomew, your order B2 is ready."
    assert answer["characters"] == len("Hi Bartholomew, your order B2 is ready.")
    assert answer["numbers"] == 3
    assert answer["points"] == 3
    assert 'data-texts="2"' in answer["counter_html"]
    assert "2 distinct texts once filled in" in answer["counter_html"]


def test_a_missing_value_is_named_on_the_text(client_as, sender, order_text):
    upload = csv_upload("phone,name,code\n0912345678,Amy,A1\n0912345679,,B2\n")
    data = compose(None, order_text, recipients_file=upload, _save="1")
    response = client_as(sender).post(ADD, data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "The placeholder {name} has no value for 1 recipient: 0912345679." in content
    assert not Message.objects.exists()


def test_an_unknown_placeholder_names_the_file_columns_in_chinese(client_as, sender, order_text):
    upload = csv_upload("phone,nmae,code\n0912345678,Amy,A1\n")
    data = compose(None, order_text, recipients_file=upload, _save="1")
    content = client_as(sender).post(ADD, data, HTTP_ACCEPT_LANGUAGE="zh-TW").content.decode()
    assert "{name}" in content
    assert "phone, nmae, code" in content
    assert "is not a column" not in content
    assert not Message.objects.exists()


def test_saving_stores_one_draft_per_distinct_text(client_as, sender, order_text, gateway):
    data = compose(None, order_text, recipients_file=csv_upload(CUSTOMERS), _save="1")
    response = client_as(sender).post(ADD, data)
    assert response.status_code == 302
    drafts = list(Message.objects.order_by("pk"))
    assert [(m.body, m.recipient_count, m.status) for m in drafts] == [
        ("Hi Amy, your order A1 is ready.", 2, Message.Status.DRAFT),
        ("Hi Bartholomew, your order B2 is ready.", 1, Message.Status.DRAFT),
    ]
    assert response["Location"].endswith(f"?id__in={drafts[0].pk},{drafts[1].pk}")
    assert send_requests(gateway) == []


@pytest.mark.django_db(transaction=True)
def test_save_and_send_confirms_and_sends_every_text(client_as, sender, order_text, gateway):
    client = client_as(sender)
    data = compose(None, order_text, recipients_file=csv_upload(CUSTOMERS), _send="1")
    confirmation = client.post(ADD, data)
    assert confirmation.status_code == 200
    content = confirmation.content.decode()
    assert "Hi Amy, your order A1 is ready." in content
    ids = [str(pk) for pk in Message.objects.order_by("pk").values_list("pk", flat=True)]
    done = client.post(
        "/admin/django_smsgo/message/",
        {"action": "send_messages", "_selected_action": ids, "post": "yes"},
    )
    assert done.status_code == 302
    bodies = sorted(r["params"]["smbody"] for r in send_requests(gateway))
    assert bodies == ["Hi Amy, your order A1 is ready.", "Hi Bartholomew, your order B2 is ready."]


def test_without_script_choosing_a_saved_text_uses_its_text(client_as, sender, order_text):
    data = compose(None, order_text, recipients_file=csv_upload(CUSTOMERS), body="", _save="1")
    response = client_as(sender).post(ADD, data)
    assert response.status_code == 302
    assert Message.objects.count() == 2


def test_a_number_twice_in_the_file_is_counted_once_and_said(client_as, sender, order_text):
    upload = csv_upload(CUSTOMERS + "0912-345-678,Someone else,Z9\n")
    data = compose(None, order_text, recipients_file=upload)
    answer = client_as(sender).post(ESTIMATE, data).json()
    assert answer["numbers"] == 3
    assert "1 number is in the file twice; its first row is used." in answer["counter_html"]
    upload.seek(0)
    chinese = client_as(sender).post(ESTIMATE, data, HTTP_ACCEPT_LANGUAGE="zh-TW").json()
    assert "有 1 個號碼在檔案中重複出現" in chinese["counter_html"]


def test_invalid_numbers_left_out_of_a_personalised_send(client_as, sender, order_text):
    upload = csv_upload(CUSTOMERS + "12345,Nobody,X1\n")
    client = client_as(sender)
    refused = client.post(ADD, compose(None, order_text, recipients_file=upload, _save="1"))
    assert refused.status_code == 200
    assert "12345" in refused.content.decode()
    assert not Message.objects.exists()
    upload.seek(0)
    data = compose(None, order_text, recipients_file=upload, drop_invalid="on", _save="1")
    assert client.post(ADD, data).status_code == 302
    assert sorted(m.recipient_count for m in Message.objects.all()) == [1, 2]


def test_an_xlsx_file_fills_the_placeholders_too(client_as, sender, order_text):
    book = Workbook()
    sheet = book.active
    sheet.append(["手機", "name", "code"])
    sheet.append([912345678, "王先生", 17])  # Excel dropped the leading 0; the code is a number
    stream = io.BytesIO()
    book.save(stream)
    upload = SimpleUploadedFile("customers.xlsx", stream.getvalue())
    response = client_as(sender).post(
        ADD, compose(None, order_text, recipients_file=upload, _save="1")
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.body == "Hi 王先生, your order 17 is ready."
    assert list(message.recipients.values_list("phone", flat=True)) == ["0912345678"]


def test_braces_broken_while_editing_are_named_on_the_text(client_as, sender, order_text):
    data = compose(
        None, order_text, recipients_file=csv_upload(CUSTOMERS), body="Hi {name", _save="1"
    )
    content = client_as(sender).post(ADD, data).content.decode()
    assert "a “{” without its “}”" in content
    assert not Message.objects.exists()

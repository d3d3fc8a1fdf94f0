"""The compose page: numbers typed or uploaded, the text, a schedule; saving makes a draft."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from django_smsgo.models import BalanceSnapshot, Message, Recipient
from tests.admin.conftest import ADD, send_requests

TAIPEI = ZoneInfo("Asia/Taipei")


def post_compose(client: Any, **data: Any) -> Any:
    fields = {"recipients": "", "body": "Hello", "encoding": "", "idempotency_key": ""}
    fields.update(data)
    return client.post(ADD, fields)


def test_the_page_offers_the_form_and_a_fresh_idempotency_key(client_as, sender):
    response = client_as(sender).get(ADD)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="smsgo-counter"' in content
    assert 'name="idempotency_key" value="admin-compose-' in content
    assert "Asia/Taipei" in content
    assert 'id="smsgo-drop-invalid" hidden>' in content  # no invalid number yet


def test_numbers_in_every_common_form_make_one_draft(client_as, sender, gateway):
    pasted = "0912-345-678\n+886 922 333 444, 0933 555 666；(0944)555666\t886955666777"
    response = post_compose(client_as(sender), recipients=pasted, body="Parcel ready", _save="1")
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{message.pk}/change/")
    assert message.status == Message.Status.DRAFT
    assert message.created_by == sender
    assert sorted(message.recipients.values_list("phone", flat=True)) == [
        "0912345678",
        "0922333444",
        "0933555666",
        "0944555666",
        "0955666777",
    ]
    assert send_requests(gateway) == []  # a draft sends nothing


def test_invalid_numbers_are_listed_and_nothing_is_saved(client_as, sender):
    response = post_compose(
        client_as(sender), recipients="0912345678\n12345\n0800-000-123", body="Hi"
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<code>12345</code>" in content
    assert "<code>0800-000-123</code>" in content
    assert "2 numbers are not valid" in content
    assert '<div class="smsgo-option-box" id="smsgo-drop-invalid">' in content  # shown
    assert Message.objects.count() == 0


def test_leaving_out_the_invalid_numbers_saves_the_valid_ones(client_as, sender):
    post_compose(client_as(sender), recipients="0912345678\n12345", body="Hi", drop_invalid="on")
    assert list(Message.objects.get().recipients.values_list("phone", flat=True)) == ["0912345678"]


def test_no_number_at_all_is_refused(client_as, sender):
    response = post_compose(client_as(sender), recipients="  \n ", body="Hi")
    assert "Give at least one number" in response.content.decode()
    assert Message.objects.count() == 0


def test_an_empty_text_is_refused(client_as, sender):
    response = post_compose(client_as(sender), recipients="0912345678", body="")
    assert "Write the text of the SMS." in response.content.decode()
    assert Message.objects.count() == 0


def test_a_text_too_long_for_the_chosen_encoding_is_refused(client_as, sender):
    response = post_compose(
        client_as(sender), recipients="0912345678", body="x" * 200, encoding="ASCII"
    )
    assert response.status_code == 200
    assert response.context["form"].has_error("body")
    assert Message.objects.count() == 0


def test_a_long_text_with_automatic_encoding_becomes_a_long_sms(client_as, sender):
    post_compose(client_as(sender), recipients="0912345678", body="x" * 200)
    message = Message.objects.get()
    assert message.encoding == "LASCI"
    assert message.segments == 2


def csv_upload(text: str, codec: str = "utf-8", name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(codec), content_type="text/csv")


def test_a_big5_csv_column_is_found_by_its_header(client_as, sender):
    upload = csv_upload("姓名,手機\n王小明,0912-345-678\n李大華,0922333444\n", codec="cp950")
    post_compose(client_as(sender), recipients_file=upload, body="Hi")
    assert sorted(Message.objects.get().recipients.values_list("phone", flat=True)) == [
        "0912345678",
        "0922333444",
    ]


def test_a_csv_column_chosen_by_letter(client_as, sender):
    upload = csv_upload("0912345678;0922333444\n0933555666;0944555666\n")
    post_compose(client_as(sender), recipients_file=upload, column="B", body="Hi")
    assert sorted(Message.objects.get().recipients.values_list("phone", flat=True)) == [
        "0922333444",
        "0944555666",
    ]


def test_an_xlsx_column_of_numbers_excel_stripped_of_their_zero(client_as, sender):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Mobile"])
    sheet.append(["Wang", 912345678])  # Excel turned 0912345678 into a number
    sheet.append(["Lee", "0922-333-444"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("list.xlsx", buffer.getvalue())
    post_compose(client_as(sender), recipients_file=upload, body="Hi")
    assert sorted(Message.objects.get().recipients.values_list("phone", flat=True)) == [
        "0912345678",
        "0922333444",
    ]


def test_a_file_that_is_not_a_list_is_refused(client_as, sender):
    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n")
    response = post_compose(client_as(sender), recipients_file=upload, body="Hi")
    assert "neither a CSV nor an XLSX file" in response.content.decode()
    assert Message.objects.count() == 0


def test_an_unknown_column_is_refused(client_as, sender):
    upload = csv_upload("name,mobile\nWang,0912345678\n")
    response = post_compose(client_as(sender), recipients_file=upload, column="phone", body="Hi")
    assert "No column “phone”" in response.content.decode()


@pytest.mark.parametrize("project_zone", ["UTC", "America/New_York", "Asia/Taipei"])
def test_the_schedule_is_taiwan_time_whatever_the_project_zone(
    client_as, sender, settings, project_zone
):
    settings.TIME_ZONE = project_zone
    day = (timezone.now() + timedelta(days=3)).astimezone(TAIPEI).date()
    post_compose(
        client_as(sender),
        recipients="0912345678",
        body="Reminder",
        send_at_0=day.isoformat(),
        send_at_1="09:30",
    )
    message = Message.objects.get()
    assert message.send_at == datetime(day.year, day.month, day.day, 9, 30, tzinfo=TAIPEI)


def test_a_schedule_in_the_past_is_refused(client_as, sender):
    yesterday = (timezone.now() - timedelta(days=1)).astimezone(TAIPEI).date()
    response = post_compose(
        client_as(sender),
        recipients="0912345678",
        body="Late",
        send_at_0=yesterday.isoformat(),
        send_at_1="09:30",
    )
    assert response.context["form"].has_error("send_at")
    assert Message.objects.count() == 0


def test_a_date_without_a_time_is_refused(client_as, sender):
    response = post_compose(
        client_as(sender), recipients="0912345678", body="Hi", send_at_0="2031-01-01"
    )
    assert "Give both the date and the time" in response.content.decode()


def test_reply_collection_is_kept_on_the_draft(client_as, sender, settings):
    settings.SMSGO = {**settings.SMSGO, "CALLBACK_BASE_URL": "https://shop.example.com"}
    post_compose(
        client_as(sender), recipients="0912345678", body="Reply YES", reply="on", reply_days="7"
    )
    message = Message.objects.get()
    assert message.reply is True
    assert message.reply_days == 7


def test_submitting_the_same_page_twice_makes_one_draft(client_as, sender):
    client = client_as(sender)
    key = "admin-compose-0123456789abcdef"
    first = post_compose(client, recipients="0912345678", body="Once", idempotency_key=key)
    second = post_compose(client, recipients="0912345678", body="Once", idempotency_key=key)
    assert Message.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_the_same_text_to_the_same_number_asks_before_saving_again(client_as, sender):
    client = client_as(sender)
    post_compose(client, recipients="0912345678", body="Sale today")
    response = post_compose(client, recipients="0912-345-678", body="Sale today")
    content = response.content.decode()
    assert "0912345678" in content
    assert "less than" in content
    assert 'name="allow_duplicate"' in content
    assert Message.objects.count() == 1
    post_compose(client, recipients="0912345678", body="Sale today", allow_duplicate="on")
    assert Message.objects.count() == 2


def test_a_send_the_balance_cannot_pay_is_refused(client_as, sender):
    BalanceSnapshot.objects.create(points=1)
    response = post_compose(client_as(sender), recipients="0912345678,0922333444", body="Hi")
    assert "needs about 2 points but the balance is 1 points" in response.content.decode()
    assert Message.objects.count() == 0


def test_save_and_send_shows_the_confirmation_with_count_and_points(client_as, sender, gateway):
    response = post_compose(
        client_as(sender), recipients="0912345678,0922333444", body="Hi", _send="1"
    )
    assert response.status_code == 200
    assert response.context["total_sms"] == 2
    assert response.context["total_points"] == 2
    message = Message.objects.get()
    assert message.status == Message.Status.DRAFT  # nothing sent before "yes"
    assert send_requests(gateway) == []
    assert message.recipients.filter(status=Recipient.Status.QUEUED).count() == 2


def test_replies_cannot_be_asked_for_without_a_callback_address(client_as, sender):
    client = client_as(sender)
    assert "CALLBACK_BASE_URL" in client.get(ADD).content.decode()
    post_compose(client, recipients="0912345678", body="Reply YES", reply="on")
    assert Message.objects.get().reply is False  # the disabled box cannot be ticked


def test_the_page_needs_the_add_permission(client_as, viewer):
    assert client_as(viewer).get(ADD).status_code == 403
    assert client_as(viewer).post(ADD, {"recipients": "0912345678", "body": "x"}).status_code == 403
    assert Message.objects.count() == 0

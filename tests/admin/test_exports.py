"""Exports of the send log and of a message's recipients: CSV and XLSX, streamed."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.http import StreamingHttpResponse

from django_smsgo.codes.service import send_otp
from django_smsgo.models import Recipient
from django_smsgo.services import exports
from tests.admin.conftest import CHANGELIST
from tests.admin.log_data import seed

LOG_EXPORT = f"{CHANGELIST}log/export/"


def body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    data = body(response)
    assert data.startswith("\ufeff".encode())  # Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True)
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def test_the_log_as_csv(client_as, sender):
    seed(5, senders=[sender])
    response = client_as(sender).get(LOG_EXPORT, {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="smsgo-send-log-')
    assert "no-store" in response["Cache-Control"]
    rows = csv_rows(response)
    assert rows[0] == [
        "Message",
        "Phone",
        "Text",
        "Status",
        "Gateway status",
        "Reason",
        "Sent (Taiwan)",
        "Final status at (Taiwan)",
        "Sender",
        "msgid",
    ]
    assert len(rows) == 6
    newest = rows[1]
    assert newest[1] == "0910000004"
    assert newest[2].startswith("週年慶最後一天")
    assert newest[3] == "Cancelled"
    assert newest[5] == "cancelled before it was sent"
    assert newest[8] == "sender"
    failed = rows[3]
    assert failed[3:5] == ["Failed", "UNDELIV"]
    assert len(failed[6]) == len("2026-12-01 13:00:00")


def test_the_log_export_follows_the_filters(client_as, sender):
    seed(50, per_message=10, senders=[sender])
    rows = csv_rows(
        client_as(sender).get(LOG_EXPORT, {"format": "csv", "status": "failed", "q": "00007"})
    )
    assert {r[3] for r in rows[1:]} == {"Failed"}
    assert [r[1] for r in rows[1:]] == ["0910000007"]


def test_the_log_as_xlsx(client_as, sender):
    seed(5, senders=[sender])
    response = client_as(sender).get(LOG_EXPORT, {"format": "xlsx"})
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].endswith('.xlsx"')
    rows = xlsx_rows(response)
    assert rows[0][:3] == ("Message", "Phone", "Text")
    assert rows[1][1] == "0910000004"  # a string: the leading 0 stays
    assert isinstance(rows[1][0], int)
    assert len(rows) == 6
    book = openpyxl.load_workbook(
        io.BytesIO(body(client_as(sender).get(LOG_EXPORT, {"format": "xlsx"})))
    )
    assert book.active.title == "Send log"
    assert book.active["A1"].font.b


def test_exports_speak_traditional_chinese(client_as, sender):
    seed(5, senders=[sender])
    client = client_as(sender)
    rows = csv_rows(client.get(LOG_EXPORT, {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-TW"))
    assert rows[0][:4] == ["簡訊", "電話", "內容", "狀態"] or rows[0][3] == "狀態"
    assert rows[0][6] == "傳送時間（台灣時間）"
    assert rows[1][3] == "已取消"
    sheet = xlsx_rows(client.get(LOG_EXPORT, {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="zh-TW"))
    assert sheet[0][7] == "最終狀態時間（台灣時間）"
    assert sheet[4][3] == "已送達"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(client_as, sender, text):
    seed(1, senders=[sender], body=text + "{n}")
    rows = csv_rows(client_as(sender).get(LOG_EXPORT, {"format": "csv"}))
    assert rows[1][2] == "'" + text + "0"


def test_xlsx_cells_are_strings_never_formulas(client_as, sender):
    seed(1, senders=[sender], body="=1+1 <b>&amp; \x07{n}")
    response = client_as(sender).get(LOG_EXPORT, {"format": "xlsx"})
    data = body(response)
    book = openpyxl.load_workbook(io.BytesIO(data))
    cell = book.active["C2"]
    assert cell.value == "=1+1 <b>&amp; 0"
    assert cell.data_type == "s"


def test_one_message_s_recipients(client_as, sender):
    first, second = seed(20, per_message=10, senders=[sender])
    client = client_as(sender)
    rows = csv_rows(client.get(f"{CHANGELIST}{second.pk}/export/", {"format": "csv"}))
    assert [r[1] for r in rows[1:]] == [f"09{10_000_010 + n:08d}" for n in range(10)]
    assert {r[0] for r in rows[1:]} == {str(second.pk)}
    failed = xlsx_rows(
        client.get(f"{CHANGELIST}{first.pk}/export/", {"format": "xlsx", "rstatus": "failed"})
    )
    assert [r[1] for r in failed[1:]] == ["0910000002", "0910000007"]


def test_the_message_page_links_to_its_export(client_as, sender):
    (message,) = seed(3, senders=[sender])
    page = client_as(sender).get(f"{CHANGELIST}{message.pk}/change/?rstatus=failed")
    content = page.content.decode()
    assert f"{CHANGELIST}{message.pk}/export/?format=xlsx&amp;rstatus=failed" in content
    assert "Export these recipients" in content


def test_a_bad_format_is_named(client_as, sender):
    (message,) = seed(3, senders=[sender])
    client = client_as(sender)
    refused = client.get(f"{CHANGELIST}{message.pk}/export/", {"format": "pdf"})
    assert refused.status_code == 400
    assert refused.content.decode() == "“pdf” is not an export format: choose csv or xlsx."
    back = client.get(LOG_EXPORT, {"format": "csv", "since": "yesterday"})
    assert back.status_code == 200  # the log again, with the error on its field
    assert "Enter a valid date." in str(back.context["form"].errors["since"])


def test_exports_need_the_view_permission(client_as, make_staff):
    (message,) = seed(3)
    nobody = make_staff("view_deliveryreport", "view_recipient")
    client = client_as(nobody)
    assert client.get(LOG_EXPORT, {"format": "csv"}).status_code == 403
    assert client.get(f"{CHANGELIST}{message.pk}/export/", {"format": "csv"}).status_code == 403


def test_exports_keep_secrets_out(client_as, sender, gateway, settings):
    sent = send_otp("0912345678", purpose="login")
    data = body(client_as(sender).get(LOG_EXPORT, {"format": "csv"})).decode("utf-8-sig")
    assert sent.message.body not in data
    assert "(one-time code: text withheld)" in data
    for secret in (settings.SMSGO.get("PASSWORD") or "never-there", settings.SECRET_KEY):
        assert secret not in data
    assert Recipient.objects.count() == 1


def test_column_letters():
    assert [exports.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_the_file_is_written_in_the_language_of_the_request_that_asked(client_as, sender):
    from django.utils import translation

    seed(2, senders=[sender])
    response = client_as(sender).get(LOG_EXPORT, {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-TW")
    translation.activate("en")  # the server streams after the view has returned
    assert csv_rows(response)[0][3] == "狀態"

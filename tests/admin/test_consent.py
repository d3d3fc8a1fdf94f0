"""The opt-out evidence in the admin: staff edits are logged, the log exports as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_smsgo.models import ConsentRecord, Suppression
from django_smsgo.services.suppression import log_consent

SUPPRESSION = "/admin/django_smsgo/suppression/"
LOG = "/admin/django_smsgo/consentrecord/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(django_user_model: Any) -> User:
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-not-secret")


def test_staff_adding_a_number_is_logged_with_their_name(
    root: User, client_as: Callable[[User], Client]
) -> None:
    client = client_as(root)
    response = client.post(
        SUPPRESSION + "add/", {"phone": "+886 912-345-678", "reason": "manual", "note": "asked"}
    )
    assert response.status_code == 302
    entry = Suppression.objects.get()
    assert entry.phone == "0912345678"
    record = ConsentRecord.objects.get()
    assert (record.action, record.source, record.created_by, record.note) == (
        "opt_out",
        "staff",
        root,
        "asked",
    )


def test_staff_removing_a_number_is_logged_as_an_opt_in(
    root: User, client_as: Callable[[User], Client]
) -> None:
    client = client_as(root)
    client.post(SUPPRESSION + "add/", {"phone": "0912345678", "reason": "manual"})
    entry = Suppression.objects.get()
    response = client.post(f"{SUPPRESSION}{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Suppression.objects.exists()
    back = ConsentRecord.objects.get(action="opt_in")
    assert (back.source, back.created_by) == ("staff", root)


def test_bulk_removal_logs_each_number(root: User, client_as: Callable[[User], Client]) -> None:
    client = client_as(root)
    for phone in ("0912345678", "0912345679"):
        client.post(SUPPRESSION + "add/", {"phone": phone, "reason": "manual"})
    ids = list(Suppression.objects.values_list("pk", flat=True))
    client.post(SUPPRESSION, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert not Suppression.objects.exists()
    assert ConsentRecord.objects.filter(action="opt_in").count() == 2


def test_the_log_is_read_only(root: User, client_as: Callable[[User], Client]) -> None:
    record = log_consent("0912345678", "opt_out", "api")
    client = client_as(root)
    assert client.get(LOG).status_code == 200
    assert client.get(LOG + "add/").status_code == 403
    page = client.get(f"{LOG}{record.pk}/change/")
    assert page.status_code == 200
    assert b'name="phone"' not in page.content


def test_the_log_exports_as_csv_with_defused_texts(
    root: User, client_as: Callable[[User], Client]
) -> None:
    from django_smsgo.models import Reply

    reply = Reply.objects.create(msgid="1", from_phone="0912345678", body="=HYPERLINK(1) 退訂")
    first = log_consent("0912345678", "opt_out", "reply", reply=reply)
    second = log_consent("0912345678", "opt_in", "staff", by=root, note="+called back")
    client = client_as(root)
    response = client.post(LOG, {"action": "export_csv", "_selected_action": [first.pk, second.pk]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [
        "time",
        "phone",
        "action",
        "source",
        "reply_text",
        "note",
        "by",
        "reply_id",
    ]
    assert rows[1][1:5] == ["0912345678", "opt_out", "reply", "'=HYPERLINK(1) 退訂"]
    assert rows[1][0].endswith("+08:00")
    assert rows[1][7] == str(reply.pk)
    assert rows[2][2:7] == ["opt_in", "staff", "", "'+called back", "root"]

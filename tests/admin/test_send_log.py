"""The send log (發送紀錄): every recipient across messages, filtered, paged by key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_smsgo.codes.service import send_otp
from django_smsgo.models import Message, Recipient
from django_smsgo.services import send_log
from tests.admin.conftest import CHANGELIST
from tests.admin.log_data import seed

LOG = f"{CHANGELIST}log/"


def phones(response) -> list[str]:
    return [row.phone for row in response.context["rows"]]


def test_the_log_lists_every_recipient_newest_first(client_as, sender):
    seed(12, per_message=5, senders=[sender])
    response = client_as(sender).get(LOG)
    assert response.status_code == 200
    assert phones(response) == [f"09{10_000_000 + n:08d}" for n in reversed(range(12))]
    page = response.content.decode()
    assert "Send log" in page
    assert "0910000002" in page
    assert "Delivered" in page  # the word, and the gateway's code beside it
    assert "DELIVRD" in page
    assert "undeliverable" in page  # the reason
    assert "12 recipients" in page


def test_the_change_list_links_to_the_log(client_as, sender):
    page = client_as(sender).get(CHANGELIST).content.decode()
    assert f'href="{LOG}"' in page


def test_a_number_is_found_in_any_common_spelling(client_as, sender):
    seed(20, per_message=10, senders=[sender])
    client = client_as(sender)
    assert phones(client.get(LOG, {"q": "0910-000-007"})) == ["0910000007"]
    assert phones(client.get(LOG, {"q": "+886 910 000 007"})) == ["0910000007"]
    found = phones(client.get(LOG, {"q": "0001"}))  # digits anywhere in the number
    assert found == [
        "0910000019",
        "0910000018",
        "0910000017",
        "0910000016",
        "0910000015",
        "0910000014",
        "0910000013",
        "0910000012",
        "0910000011",
        "0910000010",
        "0910000001",
    ]


def test_filters_by_status_sender_and_days(client_as, sender, make_staff):
    other = make_staff("view_message", username="other")
    start = timezone.now() - timedelta(days=10)
    seed(30, per_message=10, senders=[sender, other], start=start)  # three days, ten each
    client = client_as(sender)
    failed = client.get(LOG, {"status": "failed"}).context["rows"]
    assert {r.recipient.status for r in failed} == {Recipient.Status.FAILED}
    assert len(failed) == 6
    by_other = client.get(LOG, {"sender": other.pk}).context["rows"]
    assert {r.sender for r in by_other} == {"other"}
    assert len(by_other) == 10
    day = timezone.localtime(start, send_log.TAIPEI).date() + timedelta(days=1)
    one_day = client.get(LOG, {"since": day.isoformat(), "until": day.isoformat()})
    assert len(one_day.context["rows"]) == 10
    both = client.get(LOG, {"since": day.isoformat(), "status": "delivered", "sender": sender.pk})
    assert {r.recipient.status for r in both.context["rows"]} == {Recipient.Status.DELIVERED}
    assert {r.sender for r in both.context["rows"]} == {"sender"}


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"q": "abc"}, "q", "“abc” is not a phone number"),
        ({"q": "12"}, "q", "at least 3 of its digits"),
        ({"since": "2026-13-01"}, "since", "Enter a valid date."),
        ({"since": "2026-12-05", "until": "2026-12-01"}, "until", "is before the first"),
        ({"status": "lost"}, "status", "Select a valid choice."),
        ({"sender": "x"}, "sender", "Select a valid choice."),
    ],
)
def test_bad_filters_are_named_not_a_500(client_as, sender, params, field, words):
    seed(3, senders=[sender])
    response = client_as(sender).get(LOG, params)
    assert response.status_code == 200
    assert words in str(response.context["form"].errors[field])
    assert response.context["rows"] == []
    assert "Traceback" not in response.content.decode()


def test_pages_go_by_key_both_ways(client_as, sender):
    seed(120, per_message=60, senders=[sender])
    client = client_as(sender)
    first = client.get(LOG)
    assert len(first.context["rows"]) == 50
    assert first.context["newer_url"] == ""
    older = first.context["older_url"]
    second = client.get(LOG + older)
    assert phones(second)[0] == "0910000069"
    third = client.get(LOG + second.context["older_url"])
    assert len(third.context["rows"]) == 20
    assert third.context["older_url"] == ""
    back = client.get(LOG + third.context["newer_url"])
    assert phones(back) == phones(second)
    assert phones(client.get(LOG + back.context["newer_url"])) == phones(first)


def test_filters_survive_paging(client_as, sender):
    seed(200, per_message=100, senders=[sender])
    client = client_as(sender)
    first = client.get(LOG, {"status": "delivered"})
    assert "status=delivered" in first.context["older_url"]
    second = client.get(LOG + first.context["older_url"])
    assert {r.recipient.status for r in second.context["rows"]} == {Recipient.Status.DELIVERED}


def test_a_malformed_page_key_shows_the_newest_page(client_as, sender):
    seed(5, senders=[sender])
    assert len(client_as(sender).get(LOG, {"before": "x'; --"}).context["rows"]) == 5


def test_matches_are_counted_only_up_to_the_cap(client_as, sender, settings, monkeypatch):
    seed(30, per_message=30, senders=[sender])
    monkeypatch.setattr(send_log, "COUNT_CAP", 25)
    monkeypatch.setattr(send_log.matching, "__defaults__", (25,))
    page = client_as(sender).get(LOG).content.decode()
    assert "More than 25 recipients" in page


def test_one_time_code_texts_are_withheld(client_as, sender, gateway):
    sent = send_otp("0912345678", purpose="login")
    body = sent.message.body
    page = client_as(sender).get(LOG).content.decode()
    assert "(one-time code: text withheld)" in page
    assert body not in page


def test_the_log_needs_the_view_permission_on_messages(client_as, make_staff):
    seed(3)
    nobody = make_staff("view_deliveryreport", "view_recipient")
    assert client_as(nobody).get(LOG).status_code == 403


def test_the_log_speaks_traditional_chinese(client_as, sender):
    seed(5, senders=[sender])
    page = client_as(sender).get(LOG, HTTP_ACCEPT_LANGUAGE="zh-TW").content.decode()
    for words in ("發送紀錄", "電話號碼", "狀態", "發送人", "已送達", "匯出", "原因"):
        assert words in page, words
    errors = client_as(sender).get(LOG, {"q": "abc"}, HTTP_ACCEPT_LANGUAGE="zh-TW")
    assert "不是電話號碼" in str(errors.context["form"].errors["q"])


def test_drafts_and_messages_without_author_show_dashes(client_as, sender, make_message):
    make_message(2, status=Message.Status.DRAFT)
    page = client_as(sender).get(LOG)
    assert [r.sent for r in page.context["rows"]] == ["", ""]
    assert [r.sender for r in page.context["rows"]] == ["", ""]


def test_under_override_recipients_the_intended_number_is_found(client_as, sender, configure):
    seed(3, senders=[sender])
    Recipient.objects.filter(phone="0910000001").update(
        phone="0999000000", intended_phone="0910000001"
    )
    client = client_as(sender)
    configure(OVERRIDE_RECIPIENTS=["0999000000"])
    found = client.get(LOG, {"q": "0910000001"}).context["rows"]
    assert [r.phone for r in found] == ["0910000001"]


def test_no_export_is_offered_for_filters_it_cannot_read(client_as, sender):
    seed(3, senders=[sender])
    client = client_as(sender)
    assert 'id="smsgo-export"' in client.get(LOG).content.decode()
    assert 'id="smsgo-export"' not in client.get(LOG, {"q": "abc"}).content.decode()

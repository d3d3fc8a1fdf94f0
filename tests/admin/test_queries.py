"""The change list and the message page run the same number of queries for 5 or 500 recipients."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_smsgo.models import DeliveryReport, Message, Recipient
from tests.admin.conftest import CHANGELIST


def queries_for(client: Any, url: str) -> int:
    cache.clear()  # measure the page with its summary computed, not cached
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def with_reports(message: Message) -> Message:
    DeliveryReport.objects.bulk_create(
        DeliveryReport(
            recipient=r,
            msgid="2611260000000001",
            phone=r.phone,
            statuscode=0,
            statusstr="DELIVRD",
            source=DeliveryReport.Source.POLL,
            outcome=DeliveryReport.Outcome.APPLIED,
        )
        for r in message.recipients.all()
    )
    return message


def test_the_change_list_is_bounded(client_as, sender, make_message, django_assert_max_num_queries):
    client = client_as(sender)
    make_message(5, status=Message.Status.COMPLETED, recipient_status=Recipient.Status.DELIVERED)
    small = queries_for(client, CHANGELIST)
    for _ in range(3):
        make_message(
            500, status=Message.Status.SUBMITTED, recipient_status=Recipient.Status.SUBMITTED
        )
    # The first read after 1,500 new recipients folds their tally rows
    # (PostgreSQL): one statement more, once, whatever their number.
    first = queries_for(client, CHANGELIST)
    large = queries_for(client, CHANGELIST)
    assert large == small
    assert first <= large + 1
    with django_assert_max_num_queries(small - 2):  # the summary now comes from the cache
        client.get(CHANGELIST)


def test_the_message_page_is_bounded(
    client_as, sender, make_message, django_assert_max_num_queries
):
    client = client_as(sender)
    few = with_reports(
        make_message(
            5, status=Message.Status.COMPLETED, recipient_status=Recipient.Status.DELIVERED
        )
    )
    many = with_reports(
        make_message(
            500,
            body="Many",
            status=Message.Status.COMPLETED,
            recipient_status=Recipient.Status.DELIVERED,
        )
    )
    small = queries_for(client, f"{CHANGELIST}{few.pk}/change/")
    first = queries_for(client, f"{CHANGELIST}{many.pk}/change/")  # folds the tallies, once
    large = queries_for(client, f"{CHANGELIST}{many.pk}/change/")
    assert large == small
    assert first <= large + 1
    with django_assert_max_num_queries(small):
        client.get(f"{CHANGELIST}{many.pk}/change/?rpage=5&rstatus=delivered")


def test_the_recipients_are_paginated(client_as, sender, make_message):
    message = make_message(120)
    client = client_as(sender)
    first = client.get(f"{CHANGELIST}{message.pk}/change/")
    assert len(first.context["page"].object_list) == 50
    assert first.context["paginator"].num_pages == 3
    last = client.get(f"{CHANGELIST}{message.pk}/change/?rpage=3")
    assert [r.phone for r in last.context["page"].object_list][-1] == "0910000119"
    assert len(last.context["page"].object_list) == 20


def test_the_recipients_can_be_filtered_by_status_and_number(client_as, sender, make_message):
    message = make_message(10)
    message.recipients.filter(phone="0910000003").update(status=Recipient.Status.FAILED)
    client = client_as(sender)
    failed = client.get(f"{CHANGELIST}{message.pk}/change/?rstatus=failed")
    assert [r.phone for r in failed.context["page"].object_list] == ["0910000003"]
    found = client.get(f"{CHANGELIST}{message.pk}/change/?rq=0910-000-007")
    assert [r.phone for r in found.context["page"].object_list] == ["0910000007"]


def test_uncertain_recipients_are_explained_on_the_page(client_as, sender, make_message):
    message = make_message(
        3, status=Message.Status.UNCERTAIN, recipient_status=Recipient.Status.UNCERTAIN
    )
    content = client_as(sender).get(f"{CHANGELIST}{message.pk}/change/").content.decode()
    assert "3 SMS are uncertain" in content
    assert 'data-action="resend_failed"' in content

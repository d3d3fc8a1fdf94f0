"""The change list: delivery bars, filters, search, the seven-day summary and the balance."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.utils import timezone

from django_smsgo.admin.stats import seven_day_summary
from django_smsgo.models import BalanceSnapshot, Batch, Message, Recipient
from tests.admin.conftest import CHANGELIST

TAIPEI = ZoneInfo("Asia/Taipei")
R = Recipient.Status


@contextmanager
def patched_gettext(words: dict[str, str]) -> Iterator[None]:
    """The bar's words replaced (a translation that holds markup must come out escaped)."""
    from django_smsgo.admin import display

    real = display._
    with mock.patch.object(display, "_", lambda text: words.get(text, real(text))):
        yield


def test_each_message_shows_its_delivery_bar_and_counts(client_as, sender, make_message):
    message = make_message(10, status=Message.Status.SUBMITTED, recipient_status=R.SUBMITTED)
    phones = list(message.recipients.order_by("pk").values_list("pk", flat=True))
    Recipient.objects.filter(pk__in=phones[:6]).update(status=R.DELIVERED)
    Recipient.objects.filter(pk__in=phones[6:7]).update(status=R.FAILED)
    response = client_as(sender).get(CHANGELIST)
    (listed,) = response.context["cl"].result_list
    counts = listed.delivery_counts
    assert (counts.delivered, counts.pending, counts.failed) == (6, 3, 1)
    content = response.content.decode()
    assert '<span class="delivered" style="width: 60.0%"' in content
    assert '<b class="delivered">6</b> delivered' in content


def test_the_bar_escapes_its_words():
    from django.utils import translation

    from django_smsgo.admin.display import delivery_bar
    from django_smsgo.admin.stats import DeliveryCounts

    counts = DeliveryCounts.from_statuses({R.DELIVERED: 2, R.FAILED: 1})
    with translation.override("en"), patched_gettext({"failed": '<i>"failed"</i>'}):
        bar = delivery_bar(counts)
    assert "<i>" not in bar
    assert "&lt;i&gt;&quot;failed&quot;&lt;/i&gt;" in bar


def test_row_checkboxes_are_written_out_not_rendered_as_widgets(client_as, sender, make_message):
    for n in range(3):
        make_message(1, body=f'Sale <b>"{n}"</b>')
    response = client_as(sender).get(CHANGELIST)
    # Django renders a form widget's template per row; the page is cheaper without.
    assert "django/forms/widgets/checkbox.html" not in [t.name for t in response.templates]
    content = response.content.decode()
    assert 'id="action-toggle"' in content  # the select-all header is still there
    admin_class = response.context["cl"].model_admin
    for message in response.context["cl"].result_list:
        ours = admin_class.action_checkbox(message)
        assert ours in content
        djangos = str(admin.ModelAdmin.action_checkbox(admin_class, message))
        if "aria-label" not in djangos:  # Django 4.2 has no label for screen readers
            ours = re.sub(r' aria-label="[^"]*"', "", ours)
        assert ours == djangos


def test_filters_by_status_and_creator(client_as, sender, viewer, make_message):
    draft = make_message(1)
    done = make_message(1, body="Done", status=Message.Status.COMPLETED, created_by=viewer)
    client = client_as(sender)
    assert list(client.get(CHANGELIST + "?status__exact=draft").context["cl"].result_list) == [
        draft
    ]
    by_creator = client.get(CHANGELIST + f"?created_by__id__exact={viewer.pk}")
    assert list(by_creator.context["cl"].result_list) == [done]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert len(client.get(CHANGELIST, {"created_at__gte": since}).context["cl"].result_list) == 2


def test_search_by_number_in_any_form_by_text_and_by_msgid(client_as, sender, make_message):
    first = make_message(3, body="Winter sale")
    second = make_message(1, body="Your code")
    Recipient.objects.filter(message=second).update(phone="0987654321")
    batch = Batch.objects.create(
        message=second, msgid="2611260540260123", state=Batch.State.SUBMITTED
    )
    client = client_as(sender)

    def search(term: str) -> list[Message]:
        return list(client.get(CHANGELIST, {"q": term}).context["cl"].result_list)

    assert search("0987-654-321") == [second]
    assert search("+886 987 654 321") == [second]
    assert search("0910000001") == [first]
    assert search("winter") == [first]
    assert search(batch.msgid) == [second]


def test_the_summary_counts_taiwan_days(make_message):
    now = datetime(2031, 5, 10, 12, 0, tzinfo=TAIPEI)
    message = make_message(4, status=Message.Status.COMPLETED, recipient_status=R.DELIVERED)
    ids = list(message.recipients.order_by("pk").values_list("pk", flat=True))
    # 23:30 Taipei on 9 May is still 9 May although it is 15:30 UTC.
    Recipient.objects.filter(pk__in=ids[:2]).update(
        submitted_at=datetime(2031, 5, 9, 23, 30, tzinfo=TAIPEI)
    )
    Recipient.objects.filter(pk=ids[2]).update(
        submitted_at=now - timedelta(hours=1), status=R.FAILED
    )
    Recipient.objects.filter(pk=ids[3]).update(submitted_at=now - timedelta(days=30))  # too old
    cancelled = make_message(1, body="Called back", recipient_status=R.CANCELLED)
    cancelled.recipients.update(submitted_at=now - timedelta(hours=2))  # never left the gateway
    summary = seven_day_summary(now)
    days = {d.day.isoformat(): (d.sent, d.delivered, d.failed) for d in summary.days}
    assert len(days) == 7
    assert days["2031-05-09"] == (2, 2, 0)
    assert days["2031-05-10"] == (1, 0, 1)
    assert (summary.sent, summary.delivered, summary.failed) == (3, 2, 1)
    assert summary.delivered_rate == 66.7


def test_the_page_shows_the_summary_chart(client_as, sender, make_message):
    message = make_message(2, status=Message.Status.COMPLETED, recipient_status=R.DELIVERED)
    message.recipients.update(submitted_at=timezone.now())
    content = client_as(sender).get(CHANGELIST).content.decode()
    assert 'id="smsgo-summary"' in content
    assert 'data-figure="sent">2<' in content
    assert "100.0<small>%</small>" in content


def test_the_balance_is_shown_with_a_warning_when_low(client_as, sender, settings):
    settings.SMSGO = {**settings.SMSGO, "LOW_BALANCE_THRESHOLD": 500}
    client = client_as(sender)
    assert "Not checked yet." in client.get(CHANGELIST).content.decode()
    BalanceSnapshot.objects.create(points=9_000)
    healthy = client.get(CHANGELIST).content.decode()
    assert "9,000" in healthy  # with the thousands separator
    assert "top up the account soon" not in healthy
    BalanceSnapshot.objects.create(points=120)
    low = client.get(CHANGELIST).content.decode()
    assert "120" in low
    assert "Below 500 points: top up the account soon." in low
    assert 'class="smsgo-card smsgo-warn" id="smsgo-balance"' in low


def test_check_now_asks_the_gateway_for_the_balance(client_as, sender, gateway):
    response = client_as(sender).post(CHANGELIST + "balance/refresh/")
    assert response.status_code == 302
    assert BalanceSnapshot.objects.get().points == gateway.balance("tester")
    assert client_as(sender).get(CHANGELIST + "balance/refresh/").status_code == 405


def test_check_now_reports_a_gateway_that_cannot_answer(client_as, sender, gateway):
    gateway.fault("http500", endpoint="query_point.asp")
    response = client_as(sender).post(CHANGELIST + "balance/refresh/", follow=True)
    assert "The balance could not be read" in response.content.decode()
    assert not BalanceSnapshot.objects.exists()


def test_cancelled_recipients_are_counted_apart(client_as, sender, make_message):
    make_message(4, status=Message.Status.CANCELLED, recipient_status=R.CANCELLED)
    content = client_as(sender).get(CHANGELIST).content.decode()
    assert '<b class="cancelled">4</b> cancelled' in content
    assert '<span class="cancelled" style="width: 100.0%"' in content

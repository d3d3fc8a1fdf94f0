"""The report and reply lists and their searches read by index, not the whole table.

The lists must stay as fast with 100,000 rows as with 2,000 (the benchmarks
measure it); here the SQL they run is checked: no ``SELECT DISTINCT`` over a
column of every row (a values filter, the date hierarchy), and searches by a
number or a msgid compare the indexed column itself (Django's ``=field``
search compares ``UPPER(column)``, which no index serves).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from django_smsgo.admin.stats import seven_day_summary
from django_smsgo.models import DeliveryReport, Message, Recipient, Reply

REPORTS = "/admin/django_smsgo/deliveryreport/"
REPLIES = "/admin/django_smsgo/reply/"


def page_sql(client: Any, url: str) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, [query["sql"] for query in captured.captured_queries]


def stored(make_message: Any) -> Message:
    message: Message = make_message(
        3, status=Message.Status.SUBMITTED, recipient_status=Recipient.Status.SUBMITTED
    )
    for index, recipient in enumerate(message.recipients.order_by("pk")):
        DeliveryReport.objects.create(
            recipient=recipient,
            msgid=f"26112600000000{index}",
            phone=recipient.phone,
            statuscode=0,
            statusstr="DELIVRD",
            source=DeliveryReport.Source.CALLBACK,
            outcome=DeliveryReport.Outcome.APPLIED,
        )
        Reply.objects.create(
            message=message,
            recipient=recipient,
            msgid=f"26112600000000{index}",
            from_phone=recipient.phone,
            body=f"call me at 0911{index}22333 please",
        )
    return message


def test_the_report_and_reply_lists_scan_no_column(client_as, viewer, make_message):
    stored(make_message)
    client = client_as(viewer)
    for url in (REPORTS, REPLIES):
        _, sql = page_sql(client, url)
        assert not [q for q in sql if "DISTINCT" in q.upper()], url


def test_the_report_search_by_number_uses_the_column_itself(client_as, viewer, make_message):
    message = stored(make_message)
    phone = message.recipients.order_by("pk").first().phone  # type: ignore[union-attr]
    client = client_as(viewer)
    response, sql = page_sql(client, f"{REPORTS}?q={phone}")
    assert response.context["cl"].result_count == 1
    searches = [q for q in sql if "deliveryreport" in q and phone in q]
    assert searches
    # iexact: UPPER(column) on PostgreSQL, LIKE on SQLite; neither reads the index.
    assert not [q for q in searches if "UPPER(" in q.upper() or " LIKE " in q.upper()]
    response, _ = page_sql(client, f"{REPORTS}?q=261126000000001")
    assert response.context["cl"].result_count == 1


def test_the_reply_search_takes_a_number_as_a_number(client_as, viewer, make_message):
    message = stored(make_message)
    phone = message.recipients.order_by("pk").first().phone  # type: ignore[union-attr]
    client = client_as(viewer)
    response, sql = page_sql(client, f"{REPLIES}?q={phone}")
    assert response.context["cl"].result_count == 1
    assert not [q for q in sql if "reply" in q and "LIKE" in q.upper()]
    # Words still search the text.
    response, _ = page_sql(client, f"{REPLIES}?q=please")
    assert response.context["cl"].result_count == 3


def test_the_message_pages_read_delivery_figures_without_counting_recipients(
    client_as, viewer, make_message
):
    """The change list, a message's page and its search read the tallies, not 100,000 rows."""
    message = stored(make_message)
    client = client_as(viewer)
    recipients = Recipient._meta.db_table
    page = f"/admin/django_smsgo/message/{message.pk}/change/"
    for url in ("/admin/django_smsgo/message/", page, f"{page}?rstatus=submitted"):
        _, sql = page_sql(client, url)
        counting = [q for q in sql if recipients + '"' in q and "COUNT(" in q.upper()]
        assert counting == [], url


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")
def test_the_summary_finds_the_refused_recipients_by_an_index(make_message):
    """The seven-day summary's refused SMS are read from an index of only those.

    With sequential scans priced out, a plan still reads the whole recipients'
    table when no index serves the query; the summary runs every minute.
    """
    make_message(3, status=Message.Status.FAILED, recipient_status=Recipient.Status.FAILED)
    with CaptureQueriesContext(connection) as captured:
        seven_day_summary()
    refused = [q["sql"] for q in captured.captured_queries if "IS NULL" in q["sql"]]
    assert len(refused) == 1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + refused[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "smsgo_rcpt_refused" in plan, plan

"""The delivery report and reply lists count their whole table only up to a bound."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_smsgo.admin import counting
from django_smsgo.models import DeliveryReport, Reply
from django_smsgo.testing.factories import DeliveryReportFactory, ReplyFactory

REPORTS = "/admin/django_smsgo/deliveryreport/"
REPLIES = "/admin/django_smsgo/reply/"


@pytest.fixture
def bound(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(counting, "COUNTED_UP_TO", 3)
    return 3


def unbounded_counts(queries: list[dict[str, str]], table: str) -> list[str]:
    """Every COUNT of ``table`` that reads it whole: no WHERE and no LIMIT."""
    return [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"].upper()
        and f'"{table}"' in q["sql"]
        and not re.search(r"\b(WHERE|LIMIT)\b", q["sql"], re.IGNORECASE)
    ]


@pytest.mark.parametrize(
    ("url", "factory", "model", "name"),
    [
        (REPLIES, ReplyFactory, Reply, "replies"),
        (REPORTS, DeliveryReportFactory, DeliveryReport, "delivery reports"),
    ],
)
def test_a_long_list_says_more_than_the_bound(
    client_as, sender, bound, url, factory, model, name
) -> None:
    factory.create_batch(bound + 2)
    with CaptureQueriesContext(connection) as queries:
        response = client_as(sender).get(url)
    assert response.status_code == 200
    assert response.context["cl"].paginator.capped
    assert f"more than {bound} {name}" in response.content.decode()
    assert unbounded_counts(queries.captured_queries, model._meta.db_table) == []


def test_a_short_list_is_counted_exactly(client_as, sender, bound) -> None:
    ReplyFactory.create_batch(bound)
    response = client_as(sender).get(REPLIES)
    assert not response.context["cl"].paginator.capped
    assert f"{bound} replies" in response.content.decode()
    assert "more than" not in response.content.decode()


def test_a_search_is_counted_exactly_without_a_count_of_the_table(client_as, sender, bound) -> None:
    replies = ReplyFactory.create_batch(bound + 2)
    with CaptureQueriesContext(connection) as queries:
        response = client_as(sender).get(REPLIES, {"q": replies[0].from_phone})
    cl = response.context["cl"]
    assert cl.result_count == 1
    assert not cl.paginator.capped
    assert "Show all" in response.content.decode()
    assert unbounded_counts(queries.captured_queries, Reply._meta.db_table) == []


def test_the_bound_is_said_in_chinese(client_as, sender, bound) -> None:
    ReplyFactory.create_batch(bound + 1)
    response = client_as(sender).get(REPLIES, headers={"accept-language": "zh-hant"})
    assert f"超過 {bound} 筆" in response.content.decode()

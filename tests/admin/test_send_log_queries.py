"""The send log, its exports and the message list cost the same queries at 100,000 rows as at 10.

The log is paged by key and counts only up to a cap, so no page (the first,
one deep in the table, one back towards the newest) and no filter runs more
queries, or a ``COUNT`` over the whole table, when the table grows.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_smsgo.models import Recipient
from tests.admin.conftest import CHANGELIST
from tests.admin.log_data import seed

LOG = f"{CHANGELIST}log/"
LARGE = 100_000


def run(client: Any, url: str, params: dict[str, Any] | None = None) -> list[str]:
    """The SQL of the queries one GET of ``url`` runs (its answer read to the end)."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
        assert response.status_code == 200
        if response.streaming:
            for _chunk in response.streaming_content:
                pass
    return [q["sql"] for q in captured.captured_queries]


def pages(client: Any, sender: Any, other: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """The pages measured, each as (url, query)."""
    oldest = Recipient.objects.order_by("pk").values_list("pk", flat=True)[:60]
    deep = list(oldest)[-1]
    return {
        "first page": (LOG, {}),
        "a page deep in the table": (LOG, {"before": deep}),
        "back towards the newest": (LOG, {"after": deep}),
        "a number": (LOG, {"q": "0910000007"}),
        "digits of a number": (LOG, {"q": "00007"}),
        "a status": (LOG, {"status": "failed"}),
        "a sender": (LOG, {"sender": other.pk}),
        "days": (LOG, {"since": "2020-01-01", "until": "2100-12-31"}),
        "all filters": (
            LOG,
            {"status": "delivered", "sender": sender.pk, "since": "2020-01-01", "q": "0910"},
        ),
        "message list": (CHANGELIST, {}),
        "CSV export of a status": (f"{LOG}export/", {"format": "csv", "status": "cancelled"}),
    }


def test_the_log_is_bounded_at_100000_rows(client_as, sender, make_staff):
    other = make_staff("view_message", username="other")
    client = client_as(sender)
    seed(10, per_message=5, senders=[sender, other])
    small = {name: run(client, url, q) for name, (url, q) in pages(client, sender, other).items()}
    seed(LARGE, per_message=1_000, senders=[sender, other])
    assert Recipient.objects.count() >= LARGE
    for name, (url, query) in pages(client, sender, other).items():
        large = run(client, url, query)
        assert len(large) == len(small[name]), name
        if url == LOG:
            counts = [sql for sql in large if "COUNT(" in sql.upper()]
            # The one count there is, is of a LIMIT-ed subquery (up to the cap).
            assert len(counts) == 1, name
            assert "LIMIT" in counts[0].upper(), name
        assert not [sql for sql in large if "OFFSET" in sql.upper()], name


def test_a_whole_export_of_100000_rows_is_one_query(client_as, sender):
    client = client_as(sender)
    seed(10, senders=[sender])
    small = run(client, f"{LOG}export/", {"format": "xlsx"})
    seed(LARGE, per_message=1_000, senders=[sender])
    large = run(client, f"{LOG}export/", {"format": "xlsx"})
    assert len(large) == len(small)

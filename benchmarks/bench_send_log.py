"""The send log with 100,000 recipients (``BENCH_FULL=1``: 1,000,000).

Seeds the recipients in messages of 1,000 by two
staff members on PostgreSQL, logs a superuser in with Django's test client and
asks the send log's first page, a page near the oldest rows (by key), one
number and one status, counting queries and timing the best of three.
Baseline: the same rows paged the way Django's change list pages them
(``Paginator`` over the whole queryset: ``COUNT(*)`` of the table, then
``OFFSET``) to the same page, in the same run.
"""

from __future__ import annotations

from harness import FULL, Goal, fmt_seconds, stopwatch, truncate_app_tables

ROUNDS = 3
PER_MESSAGE = 1_000


def seed(count: int, users: list[object]) -> None:
    """``count`` recipients in messages of ``PER_MESSAGE``, statuses and senders mixed."""
    from django.db import connection, transaction
    from django.utils import timezone

    from django_smsgo.models import Message, Recipient

    statuses = [Recipient.Status.DELIVERED] * 8 + [
        Recipient.Status.FAILED,
        Recipient.Status.SUBMITTED,
    ]
    now = timezone.now()
    with transaction.atomic():
        for index in range(count // PER_MESSAGE):
            message = Message.objects.create(
                body=f"send log benchmark {index}",
                body_hash=f"log-{index}",
                encoding="ASCII",
                status=Message.Status.COMPLETED,
                recipient_count=PER_MESSAGE,
                created_by=users[index % len(users)],
                submitted_at=now,
            )
            first = index * PER_MESSAGE
            Recipient.objects.bulk_create(
                (
                    Recipient(
                        message=message,
                        phone=f"09{10_000_000 + n:08d}",
                        status=statuses[n % len(statuses)],
                        submitted_at=now,
                    )
                    for n in range(first, first + PER_MESSAGE)
                ),
                batch_size=PER_MESSAGE,
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE django_smsgo_recipient")


def measure(work: object) -> tuple[float, int]:
    """(best seconds, queries) of ``work()``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    best = float("inf")
    queries = 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured, stopwatch() as elapsed:
            work()  # type: ignore[operator]
        best = min(best, elapsed[0])
        queries = len(captured.captured_queries)
    return best, queries


def run(quick: bool) -> list[Goal]:
    from django.contrib.auth import get_user_model
    from django.core.paginator import Paginator
    from django.test import Client

    from django_smsgo.models import Recipient
    from django_smsgo.services import send_log

    count = 1_000_000 if FULL and not quick else 100_000
    truncate_app_tables()
    user_model = get_user_model()
    user_model.objects.filter(username__startswith="bench-log").delete()
    admin_user = user_model.objects.create_superuser("bench-log", "log@example.com", "x")
    other = user_model.objects.create_user("bench-log-2", "log2@example.com", "x")
    seed(count, [admin_user, other])
    client = Client()
    client.force_login(admin_user)
    deep = Recipient.objects.order_by("pk").values_list("pk", flat=True)[100]
    deep_page = (count - 100) // 50 + 1  # the page holding the 100th oldest, newest first

    def get(query: str) -> object:
        def work() -> None:
            response = client.get(f"/admin/django_smsgo/message/log/{query}")
            if response.status_code != 200:
                raise SystemExit(f"send log {query}: HTTP {response.status_code}")
            response.content  # noqa: B018 - render it

        return work

    def ours(log_filter: send_log.LogFilter, before: int | None = None) -> object:
        def work() -> None:
            rows = send_log.recipients(log_filter)
            send_log.page(rows, before=before)
            send_log.matching(rows)

        return work

    def stock(page: int, **filters: str) -> object:
        def work() -> None:
            rows = Recipient.objects.filter(**filters).select_related("message").order_by("-pk")
            paginator = Paginator(rows, 50)
            list(paginator.page(min(page, paginator.num_pages)).object_list)

        return work

    goals: list[Goal] = []
    everything = send_log.LogFilter()
    failed = send_log.LogFilter(status="failed")
    second_failed = send_log.page(send_log.recipients(failed)).older
    cases = [
        ("first page", "", ours(everything), stock(1)),
        (
            "a page near the oldest rows",
            f"?before={deep}",
            ours(everything, deep),
            stock(deep_page),
        ),
        (
            "one number",
            "?q=0910000777",
            ours(send_log.LogFilter(phone="0910000777")),
            stock(1, phone="0910000777"),
        ),
        (
            "failed ones, page 2",
            f"?status=failed&before={second_failed}",
            ours(failed, second_failed),
            stock(2, status="failed"),
        ),
    ]
    for label, query, reading, baseline in cases:
        request_seconds, request_queries = measure(get(query))
        seconds, queries = measure(reading)
        base_seconds, base_queries = measure(baseline)
        print(
            f"  {label}: page and count {fmt_seconds(seconds)} ({queries} queries), whole "
            f"request {fmt_seconds(request_seconds)} ({request_queries} queries); COUNT + "
            f"OFFSET {fmt_seconds(base_seconds)} ({base_queries} queries)",
            flush=True,
        )
        goals.append(
            Goal(
                f"send log, {label}, {count:,} recipients (best of {ROUNDS})",
                "",
                0.0,
                [seconds / base_seconds],
                f"page and capped count: {queries} queries, {fmt_seconds(seconds)}; whole "
                f"request {request_queries} queries, {fmt_seconds(request_seconds)}",
                f"Django's Paginator (COUNT + OFFSET): {base_queries} queries, "
                f"{fmt_seconds(base_seconds)}",
            )
        )
    return goals

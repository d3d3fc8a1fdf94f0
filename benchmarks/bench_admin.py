"""Benchmark 6: the admin's change list and message page with 100,000 recipients.

Seeds one message with 100,000 recipients in 2,000 submitted batches (mixed
statuses) beside 300 small messages, logs a superuser in with Django's test
client and asks each page, counting queries (``CaptureQueriesContext``) and
timing the best of three. Baseline: the same pages of Django's stock
``ModelAdmin`` for ``Message`` (``/vanilla-admin/``, see ``bench_urls.py``) on
the same rows.
"""

from __future__ import annotations

import itertools

from harness import Row, fmt_seconds, numbers, stopwatch, truncate_app_tables

ROUNDS = 3
BATCH = 50


def seed(count: int) -> int:
    """The big message's id, after storing it and the small ones."""
    from django.db import transaction
    from django.utils import timezone

    from django_smsgo.models import Batch, Message, Recipient

    now = timezone.now()
    statuses = itertools.cycle(
        [Recipient.Status.DELIVERED] * 8 + [Recipient.Status.FAILED, Recipient.Status.SUBMITTED]
    )
    with transaction.atomic():
        for n in range(300):
            small = Message.objects.create(
                body=f"small message {n}",
                body_hash=f"small-{n}",
                encoding="ASCII",
                status=Message.Status.COMPLETED,
                recipient_count=3,
            )
            Recipient.objects.bulk_create(
                Recipient(message=small, phone=phone, status=Recipient.Status.DELIVERED)
                for phone in numbers(3, first=80_000_000 + n * 10)
            )
        big = Message.objects.create(
            body="admin benchmark: one message to many",
            body_hash="admin-big",
            encoding="ASCII",
            status=Message.Status.SUBMITTED,
            recipient_count=count,
            submitted_at=now,
        )
        phones = numbers(count, first=90_000_000)
        for start in range(0, count, BATCH):
            batch = Batch.objects.create(
                message=big,
                state=Batch.State.SUBMITTED,
                msgid=str(2_600_000_000_000_000 + start),
                points=BATCH,
                submitted_at=now,
            )
            Recipient.objects.bulk_create(
                Recipient(
                    message=big,
                    phone=phone,
                    batch=batch,
                    status=next(statuses),
                    submitted_at=now,
                )
                for phone in phones[start : start + BATCH]
            )
    return int(big.pk)


def measure(client: object, url: str) -> tuple[float, int, int]:
    """(best seconds, queries, status) of GET ``url``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    best = float("inf")
    queries = 0
    status = 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured, stopwatch() as elapsed:
            response = client.get(url)  # type: ignore[attr-defined]
            b"".join(response) if response.streaming else response.content
        best = min(best, elapsed[0])
        queries = len(captured.captured_queries)
        status = response.status_code
    return best, queries, status


def run(quick: bool) -> list[Row]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    count = 10_000 if quick else 100_000
    truncate_app_tables()
    big = seed(count)
    user_model = get_user_model()
    user_model.objects.filter(username="bench-admin").delete()
    admin_user = user_model.objects.create_superuser("bench-admin", "admin@example.com", "x")
    client = Client()
    client.force_login(admin_user)
    rows: list[Row] = []
    pages = [
        ("change list", "/admin/django_smsgo/message/", "/vanilla-admin/django_smsgo/message/"),
        (
            "message page",
            f"/admin/django_smsgo/message/{big}/change/",
            f"/vanilla-admin/django_smsgo/message/{big}/change/",
        ),
    ]
    for label, url, baseline_url in pages:
        seconds, queries, status = measure(client, url)
        base_seconds, base_queries, base_status = measure(client, baseline_url)
        print(
            f"  {label}: {status} {fmt_seconds(seconds)} {queries} queries; stock admin "
            f"{base_status} {fmt_seconds(base_seconds)} {base_queries} queries",
            flush=True,
        )
        if status != 200 or base_status != 200:
            raise SystemExit(f"admin {label}: HTTP {status} (stock admin {base_status})")
        rows.append(
            Row(
                f"6. admin {label}, a message with {count:,} recipients",
                f"{queries} queries, {fmt_seconds(seconds)}",
                f"Django's stock ModelAdmin, same rows: {base_queries} queries, "
                f"{fmt_seconds(base_seconds)}",
                seconds / base_seconds,
                f"ratio: app time / stock admin time (best of {ROUNDS})",
            )
        )
    return rows

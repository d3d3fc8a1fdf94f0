"""Admin goals: the change list against Django's stock ModelAdmin, every list flat in size.

One large message (its recipients in submitted batches of 50, mixed
statuses, one delivery report and one reply per recipient) beside 300 small
messages: first with 2,000 recipients, then grown to 100,000 (so 2,000 and
100,000 reports and replies too). A superuser asks each page with Django's
test client (in this process: the figures include the whole request, the
template and the queries, not a web server); a round's time for a page is the
best of three requests.

* **change list vs stock**: ``/admin/django_smsgo/message/`` against the same
  page of Django's stock ``ModelAdmin`` for ``Message``
  (``/vanilla-admin/``, see ``bench_urls.py``) on the same rows, in the same
  round, at both sizes;
* **flat**: each list's time at 100,000 rows ÷ its time at 2,000 rows, round
  by round (the message change list, the message page's recipients, their
  search by number, the delivery reports and their search, the replies and
  their search). "Flat" is read here as at most 1.5 × for 50 × the rows.
"""

from __future__ import annotations

import itertools

from harness import ROUNDS, Goal, fmt_seconds, numbers, spread, stopwatch, truncate_app_tables

BATCH = 50
SIZES = (2_000, 100_000)
TRIES = 3


def seed_small() -> None:
    from django_smsgo.models import Message, Recipient

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


def grow(big: int, start: int, stop: int) -> None:
    """Recipients ``start``..``stop`` of the large message, with their reports and replies."""
    from django.db import connection, transaction
    from django.utils import timezone

    from django_smsgo.models import Batch, DeliveryReport, Recipient, Reply

    now = timezone.now()
    statuses = itertools.cycle(
        [Recipient.Status.DELIVERED] * 8 + [Recipient.Status.FAILED, Recipient.Status.SUBMITTED]
    )
    phones = numbers(stop, first=90_000_000)[start:stop]
    with transaction.atomic():
        batches = Batch.objects.bulk_create(
            Batch(
                message_id=big,
                state=Batch.State.SUBMITTED,
                msgid=str(2_600_000_000_000_000 + start + offset),
                points=BATCH,
                submitted_at=now,
            )
            for offset in range(0, stop - start, BATCH)
        )
        recipients = Recipient.objects.bulk_create(
            (
                Recipient(
                    message_id=big,
                    phone=phone,
                    batch=batches[index // BATCH],
                    status=next(statuses),
                    submitted_at=now,
                )
                for index, phone in enumerate(phones)
            ),
            batch_size=5000,
        )
        DeliveryReport.objects.bulk_create(
            (
                DeliveryReport(
                    recipient=recipient,
                    batch_id=recipient.batch_id,
                    msgid=batches[index // BATCH].msgid,
                    phone=recipient.phone,
                    statuscode=0,
                    statusstr="DELIVRD",
                    source=DeliveryReport.Source.CALLBACK,
                    outcome=DeliveryReport.Outcome.APPLIED,
                )
                for index, recipient in enumerate(recipients)
            ),
            batch_size=5000,
        )
        Reply.objects.bulk_create(
            (
                Reply(
                    message_id=big,
                    recipient=recipient,
                    msgid=batches[index // BATCH].msgid,
                    from_phone=recipient.phone,
                    body=f"reply {index}",
                    encoding="ASCII",
                )
                for index, recipient in enumerate(recipients)
            ),
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client: object, url: str) -> float:
    """Best seconds of ``TRIES`` GETs of ``url`` (each must answer 200)."""
    best = float("inf")
    for _ in range(TRIES):
        with stopwatch() as elapsed:
            response = client.get(url)  # type: ignore[attr-defined]
            b"".join(response) if response.streaming else response.content
        if response.status_code != 200:
            raise SystemExit(f"admin {url}: HTTP {response.status_code}")
        best = min(best, elapsed[0])
    return best


def run(quick: bool) -> list[Goal]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from django_smsgo.models import Message

    truncate_app_tables()
    seed_small()
    big = Message.objects.create(
        body="admin benchmark: one message to many",
        body_hash="admin-big",
        encoding="ASCII",
        status=Message.Status.SUBMITTED,
        recipient_count=SIZES[-1],
    ).pk
    user_model = get_user_model()
    user_model.objects.filter(username="bench-admin").delete()
    admin_user = user_model.objects.create_superuser("bench-admin", "admin@example.com", "x")
    client = Client()
    client.force_login(admin_user)
    searched = numbers(SIZES[0], first=90_000_000)[SIZES[0] // 2]
    pages = {
        "message change list": "/admin/django_smsgo/message/",
        "message page (its recipients)": f"/admin/django_smsgo/message/{big}/change/",
        "recipient search": f"/admin/django_smsgo/message/{big}/change/?rq={searched}",
        "delivery reports": "/admin/django_smsgo/deliveryreport/",
        "delivery report search": f"/admin/django_smsgo/deliveryreport/?q={searched}",
        "replies": "/admin/django_smsgo/reply/",
        "reply search": f"/admin/django_smsgo/reply/?q={searched}",
    }
    stock = "/vanilla-admin/django_smsgo/message/"
    times: dict[int, dict[str, list[float]]] = {}
    stock_times: dict[int, list[float]] = {}
    done = 0
    for size in SIZES:
        grow(big, done, size)
        done = size
        Message.objects.filter(pk=big).update(recipient_count=size)
        times[size] = {name: [] for name in pages}
        stock_times[size] = []
        for round_number in range(ROUNDS):
            if round_number % 2:
                stock_times[size].append(measure(client, stock))
            for name, url in pages.items():
                times[size][name].append(measure(client, url))
            if not round_number % 2:
                stock_times[size].append(measure(client, stock))
        print(
            f"  {size:,} rows: "
            + ", ".join(f"{name} {spread(t, fmt_seconds)}" for name, t in times[size].items())
            + f"; stock change list {spread(stock_times[size], fmt_seconds)}",
            flush=True,
        )
    goals = [
        Goal(
            f"admin message change list vs stock ModelAdmin, {size:,} recipients",
            "<=",
            1.5,
            [
                a / b
                for a, b in zip(times[size]["message change list"], stock_times[size], strict=True)
            ],
            "app: " + spread(times[size]["message change list"], fmt_seconds),
            "Django's stock ModelAdmin, same rows: " + spread(stock_times[size], fmt_seconds),
        )
        for size in SIZES
    ]
    small, large = SIZES
    goals += [
        Goal(
            f"admin {name}: flat from {small:,} to {large:,} rows",
            "<=",
            1.5,
            [b / a for a, b in zip(times[small][name], times[large][name], strict=True)],
            f"at {large:,}: {spread(times[large][name], fmt_seconds)}",
            f"the same page at {small:,}: {spread(times[small][name], fmt_seconds)}",
        )
        for name in pages
    ]
    return goals

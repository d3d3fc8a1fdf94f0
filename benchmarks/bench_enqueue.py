"""Benchmark 2: ``send_sms()`` to 10,000 numbers vs. a bare ``bulk_create`` of 10,000 rows.

``send_sms()`` validates and normalises every number, checks the opt-out list
and the duplicate guard, stores the message and its recipients and publishes
one dispatch task to Redis (no worker runs, so nothing is sent; the queue is
purged afterwards). The baseline stores one message and the same number of
recipient rows with ``bulk_create`` and nothing else. Best of three each.
"""

from __future__ import annotations

from harness import Row, fmt_seconds, numbers, purge_broker, stopwatch, truncate_app_tables

ROUNDS = 3


def bare_bulk_create(phones: list[str], label: str) -> float:
    from django.db import transaction

    from django_smsgo.models import Message, Recipient

    with stopwatch() as elapsed, transaction.atomic():
        message = Message.objects.create(
            body=label, body_hash=label, encoding="ASCII", recipient_count=len(phones)
        )
        Recipient.objects.bulk_create(
            [Recipient(message=message, phone=phone) for phone in phones], batch_size=1000
        )
    return elapsed[0]


def app_send(phones: list[str], label: str) -> float:
    from django_smsgo import send_sms
    from django_smsgo.models import Recipient

    with stopwatch() as elapsed:
        message = send_sms(phones, label, encoding="ASCII")
    stored = Recipient.objects.filter(message=message).count()
    if stored != len(phones):
        raise SystemExit(f"send_sms stored {stored} recipients of {len(phones)}")
    return elapsed[0]


def run(quick: bool) -> list[Row]:
    count = 1_000 if quick else 10_000
    truncate_app_tables()
    baseline = []
    app = []
    for round_number in range(ROUNDS):
        # Fresh numbers each round, so the duplicate guard finds nothing to refuse.
        phones = numbers(count, first=(round_number + 1) * 1_000_000)
        baseline.append(bare_bulk_create(phones, f"bulk baseline {round_number}"))
        app.append(app_send(phones, f"enqueue benchmark {round_number}"))
    purge_broker()
    print(
        "  bulk_create: "
        + ", ".join(fmt_seconds(s) for s in baseline)
        + "; send_sms: "
        + ", ".join(fmt_seconds(s) for s in app),
        flush=True,
    )
    best_app, best_base = min(app), min(baseline)
    return [
        Row(
            f"2. enqueue: send_sms() to {count:,} numbers",
            f"{fmt_seconds(best_app)} ({count / best_app:,.0f} numbers/s)",
            f"bare bulk_create of {count:,} rows: {fmt_seconds(best_base)}",
            best_app / best_base,
            f"ratio: send_sms time / bulk_create time (best of {ROUNDS})",
        )
    ]

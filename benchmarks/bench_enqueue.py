"""Enqueue goal: ``send_sms()`` to 10,000 numbers vs. a bare ``bulk_create`` of 10,000 rows.

``send_sms()`` validates and normalises every number, checks the opt-out list
and the duplicate guard, stores the message and its recipients and publishes
one dispatch task to Redis (no worker runs, so nothing is sent; the queue is
purged afterwards). The baseline stores one message and the same number of
recipient rows with ``bulk_create`` (1,000 a statement) and nothing else. Three
rounds, the order alternating; the verdict is on the median of the rounds' ratios.
"""

from __future__ import annotations

from harness import (
    ROUNDS,
    Goal,
    fmt_seconds,
    numbers,
    purge_broker,
    spread,
    stopwatch,
    truncate_app_tables,
)


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


def run(quick: bool) -> list[Goal]:
    count = 1_000 if quick else 10_000
    truncate_app_tables()
    baseline: list[float] = []
    app: list[float] = []
    for round_number in range(ROUNDS):
        # Fresh numbers each round, so the duplicate guard finds nothing to refuse.
        phones = numbers(count, first=(round_number + 1) * 1_000_000)
        if round_number % 2:
            app.append(app_send(phones, f"enqueue benchmark {round_number}"))
            baseline.append(bare_bulk_create(phones, f"bulk baseline {round_number}"))
        else:
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
    return [
        Goal(
            f"enqueue: send_sms() to {count:,} numbers",
            "<=",
            1.5,
            [a / b for a, b in zip(app, baseline, strict=True)],
            f"send_sms(): {spread(app, fmt_seconds)}",
            f"bare bulk_create of {count:,} rows: {spread(baseline, fmt_seconds)}",
        )
    ]

"""Report goal: a delivery report costs the same early and late in a large message's delivery.

Each round empties the tables and stores one message of 10,000 submitted recipients (batches of
50) and records a ``DELIVRD`` report for every recipient in the order the
SMS went out, as the gateway's Phase-Two reports mostly arrive, through
:func:`~django_smsgo.services.reports.record_observation` with the batch id
(the callback view's own call, in this process: no web server). The figure
is the median time of the last 1,000 reports but one (most of the message
already settled) ÷ the median of the first 1,000 (none settled), measured on
the same message in the same round. The last report, which completes the
message, is left out of the figure: it also settles the message.

Checked every round: every report was applied and the message is completed.
"""

from __future__ import annotations

import statistics
import time

from harness import ROUNDS, Goal, numbers, spread, store_submitted, truncate_app_tables

RECIPIENTS = 10_000
BATCH = 50
SAMPLE = 1_000


def seed(count: int, first: int) -> int:
    """A submitted message of ``count`` recipients in submitted batches of 50; its id."""
    from django.db import connection

    from django_smsgo.models import Recipient

    phones = numbers(count, first=first)
    sent = [
        (str(7 * 10**14 + first + at), phones[at : at + BATCH]) for at in range(0, count, BATCH)
    ]
    message_id = store_submitted(f"report order {first}", sent)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Recipient._meta.db_table}")  # as autovacuum would have
    return message_id


def run(quick: bool) -> list[Goal]:
    from django_smsgo.models import DeliveryReport, Message, Recipient
    from django_smsgo.services.reports import record_observation

    count = 3_000 if quick else RECIPIENTS
    sample = min(SAMPLE, count // 3)
    ratios: list[float] = []
    early: list[float] = []
    late: list[float] = []
    for round_number in range(ROUNDS):
        truncate_app_tables()  # each round the same table: this message alone
        message_id = seed(count, first=40_000_000 + round_number * 1_000_000)
        recipients = (
            Recipient.objects.filter(message_id=message_id)
            .order_by("pk")
            .values_list("batch_id", "batch__msgid", "phone")
        )
        times = []
        for batch_id, msgid, phone in recipients:
            started = time.perf_counter()
            report = record_observation(
                msgid=msgid,
                phone=phone,
                statuscode=0,
                statusstr="DELIVRD",
                source=DeliveryReport.Source.CALLBACK,
                raw={"msgid": msgid, "dstaddr": phone, "statusstr": "DELIVRD"},
                batch_id=batch_id,
            )
            times.append(time.perf_counter() - started)
            if report.outcome != DeliveryReport.Outcome.APPLIED:
                raise SystemExit(f"report order: a report was {report.outcome}, not applied")
        if Message.objects.get(pk=message_id).status != Message.Status.COMPLETED:
            raise SystemExit("report order: the message was not completed")
        first, last = statistics.median(times[:sample]), statistics.median(times[-sample - 1 : -1])
        print(
            f"  round {round_number + 1}: first {sample:,} reports {first * 1000:.2f} ms, "
            f"last {sample:,} {last * 1000:.2f} ms (median each): {last / first:.2f} x",
            flush=True,
        )
        ratios.append(last / first)
        early.append(first)
        late.append(last)
    return [
        Goal(
            f"reports: cost flat through a {count:,}-recipient message's delivery "
            "(in sending order)",
            "<=",
            1.5,
            ratios,
            f"last {sample:,} reports, most of the message settled: "
            + spread(late, lambda v: f"{v * 1000:.2f} ms"),
            f"first {sample:,} reports of the same message, none settled: "
            + spread(early, lambda v: f"{v * 1000:.2f} ms"),
        )
    ]

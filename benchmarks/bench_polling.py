"""Polling goal: settle 10,000 pending recipients, against the same requests made bare.

Each round stores 10,000 recipients the simulator really has: their numbers
are sent to it first (bare requests, latency 0), and the message, its 200
batches (with the msgids the simulator gave) and its recipients are written
``submitted`` with one ``INSERT`` each, as a finished dispatch would leave
them, and the app's tables are analysed (``ANALYZE``: the planner knows the
rows, as on a database in use, and autovacuum has no reason to do it in the
middle of the round). The simulator's latency is off, so the figures are the
app's own cost.

* **anchor**: the same ``queryBulk.asp`` requests (50 pairs each, in the
  app's order) made by a bare ``http.client`` loop over one keep-alive
  connection, the answers read and checked to hold a ``DELIVRD`` per pair,
  nothing parsed further and nothing stored;
* **app**: ``poll_delivery_status(min_age=0)``: the same requests, every
  answer parsed, each pair's observation stored as a delivery report and the
  recipients and messages settled (set-based: a few statements per answer).

Checked every round: the app made exactly the anchor's number of requests and
all 10,000 recipients are ``delivered`` with one report each.
"""

from __future__ import annotations

import http.client
import math
from urllib.parse import urlencode

from harness import (
    ACCOUNT,
    ROUNDS,
    Goal,
    SimulatorProcess,
    analyse_app_tables,
    bare_send,
    chunked,
    fmt_seconds,
    numbers,
    spread,
    stopwatch,
    store_submitted,
    truncate_app_tables,
)

PAIRS_PER_REQUEST = 50


def bare_query_bulk(simulator: SimulatorProcess, pairs: list[tuple[str, str]]) -> float:
    connection = http.client.HTTPConnection(simulator.host, simulator.port, timeout=30)
    connection.connect()
    with stopwatch() as elapsed:
        for start in range(0, len(pairs), PAIRS_PER_REQUEST):
            chunk = pairs[start : start + PAIRS_PER_REQUEST]
            query = urlencode(
                {
                    "username": ACCOUNT[0],
                    "password": ACCOUNT[1],
                    "msgid": ",".join(m for m, _ in chunk),
                    "dstaddr": ",".join(p for _, p in chunk),
                }
            )
            connection.request("GET", f"{simulator.path}queryBulk.asp?{query}")
            answer = connection.getresponse().read()
            assert answer.count(b"DELIVRD") == len(chunk), answer[:200]
    connection.close()
    return elapsed[0]


def seed_pending(simulator: SimulatorProcess, count: int, first: int) -> list[tuple[str, str]]:
    """``count`` submitted recipients the simulator knows; their (msgid, phone) in id order."""
    phones = numbers(count, first=first)
    _, sent = bare_send(simulator, chunked(phones, PAIRS_PER_REQUEST), f"polling {first}")
    store_submitted(f"polling {first}", sent)
    analyse_app_tables()
    return [(msgid, phone) for msgid, chunk in sent for phone in chunk]


def run(simulator: SimulatorProcess, quick: bool) -> list[Goal]:
    from django_smsgo.models import DeliveryReport, Recipient
    from django_smsgo.services.polling import poll_delivery_status

    count = 2_000 if quick else 10_000
    truncate_app_tables()
    ratios: list[float] = []
    app_times: list[float] = []
    anchor_times: list[float] = []
    for round_number in range(ROUNDS):
        simulator.reset(latency=0)
        pairs = seed_pending(simulator, count, first=30_000_000 + round_number * 1_000_000)
        before = len(simulator.requests("queryBulk.asp"))
        anchor = bare_query_bulk(simulator, pairs)
        anchor_requests = len(simulator.requests("queryBulk.asp")) - before
        with stopwatch() as elapsed:
            result = poll_delivery_status(min_age=0)
        requests = len(simulator.requests("queryBulk.asp")) - before - anchor_requests
        delivered = Recipient.objects.filter(status=Recipient.Status.DELIVERED).count()
        reports = DeliveryReport.objects.filter(source=DeliveryReport.Source.POLL).count()
        expected = (round_number + 1) * count
        print(
            f"  round {round_number + 1}: polled {result.asked} in {requests} requests, "
            f"{result.changed} changed, {fmt_seconds(elapsed[0])}; bare {anchor_requests} "
            f"requests {fmt_seconds(anchor)}: {elapsed[0] / anchor:.2f} x",
            flush=True,
        )
        if (
            requests != math.ceil(count / PAIRS_PER_REQUEST)
            or requests != anchor_requests
            or delivered != expected
            or reports != expected
        ):
            raise SystemExit(
                f"polling: {requests} requests (bare {anchor_requests}), {delivered} delivered "
                f"and {reports} reports stored of {expected}"
            )
        ratios.append(elapsed[0] / anchor)
        app_times.append(elapsed[0])
        anchor_times.append(anchor)
    return [
        Goal(
            f"polling: settle {count:,} pending recipients (latency 0)",
            "<=",
            5,
            ratios,
            f"poll_delivery_status(): {spread(app_times, fmt_seconds)} "
            f"({count / min(app_times):,.0f} recipients/s at best)",
            f"bare queryBulk, same {math.ceil(count / PAIRS_PER_REQUEST)} requests, nothing "
            f"stored: {spread(anchor_times, fmt_seconds)}",
        )
    ]

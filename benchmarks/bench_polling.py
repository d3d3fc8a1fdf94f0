"""Benchmark 4: requests and time to settle 10,000 pending recipients by polling.

The recipients are those the dispatch benchmark submitted (no callbacks:
they are all pending). The simulator's latency is off here, so the figure is
the app's own cost. Baseline: the same ``queryBulk.asp`` requests (50 pairs
each) made with a bare HTTP client over one keep-alive connection, parsing
nothing and storing nothing.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlencode

from harness import ACCOUNT, Row, SimulatorProcess, fmt_seconds, stopwatch

PAIRS_PER_REQUEST = 50


def bare_query_bulk(simulator: SimulatorProcess, pairs: list[tuple[str, str]]) -> float:
    connection = http.client.HTTPConnection(simulator.host, simulator.port, timeout=30)
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


def run(simulator: SimulatorProcess, quick: bool, message_id: int) -> list[Row]:
    from django_smsgo.models import Recipient
    from django_smsgo.services.polling import poll_delivery_status

    if not message_id:
        raise SystemExit("the polling benchmark needs the dispatch benchmark's message")
    simulator.set_latency(0)
    pending = Recipient.objects.filter(message_id=message_id, status=Recipient.Status.SUBMITTED)
    pairs = list(pending.values_list("batch__msgid", "phone"))
    count = len(pairs)
    if not count:
        raise SystemExit("the polling benchmark found no pending recipients")
    before = len(simulator.requests("queryBulk.asp"))
    baseline = bare_query_bulk(simulator, pairs)
    baseline_requests = len(simulator.requests("queryBulk.asp")) - before

    before += baseline_requests
    with stopwatch() as elapsed:
        result = poll_delivery_status(min_age=0)
    requests = len(simulator.requests("queryBulk.asp")) - before
    settled = Recipient.objects.filter(
        message_id=message_id, status=Recipient.Status.DELIVERED
    ).count()
    print(
        f"  polled {result.asked} recipients in {result.requests} requests "
        f"(simulator saw {requests}), {result.changed} changed, {settled} delivered, "
        f"{fmt_seconds(elapsed[0])}; bare queryBulk {baseline_requests} requests "
        f"{fmt_seconds(baseline)}",
        flush=True,
    )
    if settled != count:
        raise SystemExit(f"polling settled {settled} of {count} recipients")
    return [
        Row(
            f"4. polling: settle {count:,} pending recipients",
            f"{requests} queryBulk requests, {fmt_seconds(elapsed[0])} "
            f"({count / elapsed[0]:,.0f} recipients/s)",
            f"bare queryBulk, same {baseline_requests} requests, no storing: "
            f"{fmt_seconds(baseline)}",
            elapsed[0] / baseline,
            "ratio: app time / bare HTTP time (latency off)",
        )
    ]

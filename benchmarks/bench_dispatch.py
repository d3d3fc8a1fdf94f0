"""Dispatch goals: one connection, K connections, latency 0, the vendor sample, end to end.

Every app figure is paired with its **anchor**, measured in the same round
right before or after it (the order alternates from round to round): a bare
``http.client`` loop over keep-alive connections opened beforehand, making
the same ``sendsms.aspx`` requests (50 numbers each, the same body) to the
same simulator with the same added latency, parsing nothing but the msgid.
With K connections the anchor is K such loops in K threads sharing the
requests.

The app: ``send_sms()`` in this process, then a real ``celery worker`` (one
process, ``DISPATCH_CONNECTIONS`` = K) runs the dispatch task. The dispatch
time is read from the database: from the first batch's claim (the ``now`` its
claim statement was given, before it ran) to the last batch's record (the
``now`` taken right after its answer was read). So it covers every claim but
the first one's statement, every request, every record but the last one's
statement, and all the Python around them; it does not include
``send_sms()``, the broker or the task's start (the end-to-end figure does).
Each run is checked: exactly ceil(N/50) requests, none sent twice, all N
recipients ``submitted``.

The table also holds, through the whole run, a draft message of 100,000
unclaimed recipients and every message dispatched before: the claim must stay
cheap beside other large messages.
"""

from __future__ import annotations

import http.client
import math
import time
from typing import Any
from urllib.parse import urlencode

from harness import (
    ACCOUNT,
    FULL,
    ROUNDS,
    Goal,
    SimulatorProcess,
    Worker,
    bare_send,
    chunked,
    fmt_seconds,
    numbers,
    purge_broker,
    seed_queued_message,
    spread,
    stopwatch,
    truncate_app_tables,
    wait_until,
)

LATENCY = 0.02
BATCH = 50
_next_phone = [10_000_000]


def fresh_numbers(count: int) -> list[str]:
    """Numbers never used before in this run (the duplicate guard and audit stay quiet)."""
    first = _next_phone[0]
    _next_phone[0] += count * 2
    return numbers(count, first=first)


def vendor_sample(simulator: SimulatorProcess, phones: list[str], body: str) -> float:
    """One GET per number, a new TCP connection each (the vendor's sample code); seconds."""
    with stopwatch() as elapsed:
        for phone in phones:
            connection = http.client.HTTPConnection(simulator.host, simulator.port, timeout=30)
            query = urlencode(
                {
                    "username": ACCOUNT[0],
                    "password": ACCOUNT[1],
                    "dstaddr": phone,
                    "smbody": body,
                    "encoding": "ASCII",
                }
            )
            connection.request("GET", f"{simulator.path}sendsms.aspx?{query}")
            answer = connection.getresponse().read()
            connection.close()
            assert b"statuscode=0" in answer, answer
    return elapsed[0]


def app_dispatch(simulator: SimulatorProcess, phones: list[str], body: str) -> dict[str, Any]:
    """``send_sms()``, then wait for the worker; the figures read from the database."""
    from django.db.models import Max, Min

    from django_smsgo import send_sms
    from django_smsgo.models import Batch, Message, Recipient

    simulator_before = simulator.state()
    started = time.time()
    message = send_sms(phones, body, encoding="ASCII")
    enqueued = time.time()
    left = Recipient.objects.filter(message=message, status=Recipient.Status.QUEUED)
    if not wait_until(lambda: not left.exists(), timeout=900, interval=0.05):
        raise SystemExit(f"dispatch of {len(phones)} numbers did not finish within 900 s")
    busy = Message.objects.filter(
        pk=message.pk, status__in=[Message.Status.QUEUED, Message.Status.SENDING]
    )
    wait_until(lambda: not busy.exists(), timeout=60, interval=0.05)
    span = Batch.objects.filter(message=message).aggregate(
        first=Min("claimed_at"), last=Max("submitted_at")
    )
    submitted = Recipient.objects.filter(message=message, status=Recipient.Status.SUBMITTED).count()
    # First: the admin calls below open connections of their own.
    connections = simulator.connections_since(simulator_before)
    requests = len(simulator.requests("sendsms.aspx"))
    duplicates = simulator.duplicates()
    expected = math.ceil(len(phones) / BATCH)
    if requests != expected or submitted != len(phones) or duplicates["extra_sends"]:
        raise SystemExit(
            f"dispatch of {len(phones)}: {requests} requests (expected {expected}), "
            f"{submitted} submitted, duplicates {duplicates}"
        )
    last = span["last"].timestamp()
    return {
        "dispatch": last - span["first"].timestamp(),
        "enqueue": enqueued - started,
        "end_to_end": last - started,
        "requests": requests,
        "connections": connections,
    }


class Pairs:
    """App and anchor of one scenario, round after round."""

    def __init__(self, simulator: SimulatorProcess) -> None:
        self.simulator = simulator
        self.rounds = 0

    def measure(
        self, count: int, latency: float, connections: int, app_first: bool
    ) -> tuple[dict[str, Any], float]:
        simulator = self.simulator
        self.rounds += 1
        label = f"dispatch {count} at {latency * 1000:.0f} ms, K={connections} #{self.rounds}"
        phones, anchor_phones = fresh_numbers(count), fresh_numbers(count)

        def anchor() -> float:
            simulator.reset(latency=latency)
            seconds, _ = bare_send(simulator, chunked(anchor_phones), label, connections)
            return seconds

        def app() -> dict[str, Any]:
            simulator.reset(latency=latency)
            return app_dispatch(simulator, phones, label)

        if app_first:
            figures = app()
            anchor_seconds = anchor()
        else:
            anchor_seconds = anchor()
            figures = app()
        print(
            f"  {label}: app {fmt_seconds(figures['dispatch'])} "
            f"({figures['dispatch'] / anchor_seconds:.2f} x anchor), anchor "
            f"{fmt_seconds(anchor_seconds)}, {figures['requests']} requests on "
            f"{figures['connections']} connection(s), send_sms {fmt_seconds(figures['enqueue'])},"
            f" end to end {fmt_seconds(figures['end_to_end'])}",
            flush=True,
        )
        return figures, anchor_seconds


def run(simulator: SimulatorProcess, quick: bool) -> list[Goal]:
    """The dispatch goals (``quick``: 2,000 numbers where the issue says 10,000)."""
    truncate_app_tables()
    seed_queued_message(100_000, first_phone=1_000_000)
    big = 2_000 if quick else 10_000
    sizes = list(dict.fromkeys([2_000, big] + ([100_000] if FULL and not quick else [])))
    zero_sizes = [big] + ([100_000] if FULL and not quick else [])
    pairs = Pairs(simulator)
    one: dict[int, list[tuple[float, float]]] = {n: [] for n in sizes}
    zero: dict[int, list[tuple[float, float]]] = {n: [] for n in zero_sizes}
    vendor: list[tuple[float, float]] = []
    end_to_end: list[tuple[float, float]] = []

    worker = _worker(simulator, 1)
    try:
        for round_number in range(ROUNDS):
            app_first = round_number % 2 == 1
            for count in sizes:
                figures, anchor = pairs.measure(count, LATENCY, 1, app_first)
                one[count].append((figures["dispatch"], anchor))
                if count == 2_000:
                    simulator.reset(latency=LATENCY)
                    seconds = vendor_sample(simulator, fresh_numbers(count), "vendor sample")
                    print(f"  vendor sample, {count} numbers: {fmt_seconds(seconds)}", flush=True)
                    vendor.append((figures["dispatch"], seconds))
                if count == big:
                    end_to_end.append((figures["end_to_end"], figures["enqueue"]))
            for count in zero_sizes:
                figures, anchor = pairs.measure(count, 0.0, 1, app_first)
                zero[count].append((figures["dispatch"], anchor))
    finally:
        worker.stop()

    many: dict[int, list[tuple[float, float]]] = {}
    for connections in (2, 4):
        many[connections] = []
        worker = _worker(simulator, connections)
        try:
            for round_number in range(ROUNDS):
                figures, anchor = pairs.measure(big, LATENCY, connections, round_number % 2 == 1)
                many[connections].append((figures["dispatch"], anchor))
        finally:
            worker.stop()

    goals = [
        _ratio_goal(
            f"dispatch, 1 connection, {count:,} numbers, 20 ms", one[count], "<=", 1.1, count
        )
        for count in sizes
    ]
    largest = sizes[-1]
    per_batch = [
        (app_large / math.ceil(largest / BATCH)) / (app_small / math.ceil(2_000 / BATCH))
        for (app_large, _), (app_small, _) in zip(one[largest], one[2_000], strict=True)
    ]
    goals.append(
        Goal(
            f"per-batch cost flat: {largest:,} vs 2,000 numbers, 20 ms, beside other large "
            "messages",
            "<=",
            1.1,
            per_batch,
            "app ms per batch at "
            + ", ".join(
                f"{n:,}: " + spread([a / math.ceil(n / BATCH) * 1000 for a, _ in one[n]])
                for n in sizes
            ),
            "the same ratio for the anchor: "
            + spread(
                [
                    (b_large / math.ceil(largest / BATCH)) / (b_small / math.ceil(2_000 / BATCH))
                    for (_, b_large), (_, b_small) in zip(one[largest], one[2_000], strict=True)
                ]
            ),
        )
    )
    goals += [
        _ratio_goal(f"dispatch, 1 connection, {count:,} numbers, latency 0", zero[count], "<=", 3)
        for count in zero_sizes
    ]
    goals.append(
        Goal(
            "dispatch vs the vendor sample (one GET per number, new connection), 2,000 numbers",
            ">=",
            40,
            [sample / app for app, sample in vendor],
            "app, 1 connection: " + spread([a for a, _ in vendor], fmt_seconds),
            "vendor sample, same 2,000 numbers: " + spread([s for _, s in vendor], fmt_seconds),
        )
    )
    goals += [
        _ratio_goal(
            f"dispatch, K = {connections} connections, {big:,} numbers, 20 ms",
            many[connections],
            "<=",
            1.3,
            big,
            connections,
        )
        for connections in (2, 4)
    ]
    floor = math.ceil(big / BATCH) * LATENCY
    goals.append(
        Goal(
            f"end to end: send_sms() of {big:,} numbers to the last one submitted, 1 connection",
            "",
            0,
            [total / floor for total, _ in end_to_end],
            f"{spread([t for t, _ in end_to_end], fmt_seconds)}, of which send_sms() "
            f"{spread([e for _, e in end_to_end], fmt_seconds)}",
            f"floor ceil(N/50) x 20 ms = {fmt_seconds(floor)}",
        )
    )
    return goals


def _worker(simulator: SimulatorProcess, connections: int) -> Worker:
    purge_broker()
    return Worker(
        concurrency=1,
        api_url=simulator.base_url,
        BENCH_DISPATCH_CONNECTIONS=str(connections),
    )


def _ratio_goal(
    name: str,
    pairs: list[tuple[float, float]],
    rule: str,
    threshold: float,
    count: int = 0,
    connections: int = 1,
) -> Goal:
    floor = ""
    if count:
        floor = (
            f"; floor ceil(N/50) x 20 ms / K = "
            f"{fmt_seconds(math.ceil(count / BATCH) * LATENCY / connections)}"
        )
    return Goal(
        name,
        rule,
        threshold,
        [app / anchor for app, anchor in pairs],
        "app: " + spread([a for a, _ in pairs], fmt_seconds),
        f"bare {connections}-connection loop: "
        + spread([b for _, b in pairs], fmt_seconds)
        + floor,
    )

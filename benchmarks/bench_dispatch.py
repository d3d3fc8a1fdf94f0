"""Benchmark 1: dispatch through a real Celery worker to the simulator with 20 ms latency.

Baseline: the vendor's sample programs' way, one GET per number on a new
connection each, sequentially. It is measured on a sample of the numbers and
scaled to the full count (each request is independent, so time is linear in
the number of requests); the table says so.
"""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlencode

from harness import (
    ACCOUNT,
    Row,
    SimulatorProcess,
    Worker,
    fmt_seconds,
    numbers,
    purge_broker,
    stopwatch,
    truncate_app_tables,
    wait_until,
)

LATENCY = 0.02


def naive_send(simulator: SimulatorProcess, phones: list[str], body: str) -> float:
    """One request per number, a new TCP connection each (the vendor's sample code); seconds."""
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


def app_dispatch(
    simulator: SimulatorProcess, phones: list[str], body: str, tasks: int
) -> dict[str, float]:
    """``send_sms()`` then wait until the worker has submitted every recipient."""
    from django_smsgo import send_sms
    from django_smsgo.models import Recipient
    from django_smsgo.tasks import dispatch_message

    started = time.perf_counter()
    message = send_sms(phones, body, encoding="ASCII")
    enqueued = time.perf_counter()
    for _ in range(tasks - 1):
        # Dispatch is safe to run concurrently on one message: extra tasks share its batches.
        dispatch_message.delay(message.pk)
    pending = Recipient.objects.filter(message=message, status=Recipient.Status.QUEUED)
    if not wait_until(lambda: not pending.exists(), timeout=600):
        raise SystemExit("dispatch did not finish within 600 s")
    done = time.perf_counter()
    message.refresh_from_db()
    return {
        "enqueue": enqueued - started,
        "dispatch": done - enqueued,
        "total": done - started,
        "submitted": Recipient.objects.filter(
            message=message, status=Recipient.Status.SUBMITTED
        ).count(),
        "status": message.status,  # type: ignore[dict-item]
        "message": message.pk,
    }


def run(simulator: SimulatorProcess, quick: bool) -> tuple[list[Row], int]:
    """Rows of the table; also returns the id of the message left submitted (for polling)."""
    count = 1_000 if quick else 10_000
    sample = 100 if quick else 500
    phones = numbers(count)
    rows: list[Row] = []

    simulator.reset(latency=LATENCY)
    before = simulator.state()
    naive_seconds = naive_send(simulator, numbers(sample, first=60_000_000), "naive baseline")
    naive_connections = simulator.connections_since(before)
    naive_requests = len(simulator.requests("sendsms.aspx"))
    naive_full = naive_seconds / sample * count
    print(
        f"  naive: {sample} numbers, {naive_requests} requests, {naive_connections} connections, "
        f"{fmt_seconds(naive_seconds)} -> {fmt_seconds(naive_full)} for {count}",
        flush=True,
    )

    last_message = 0
    for tasks, concurrency in ((1, 1), (4, 4)):
        truncate_app_tables()
        purge_broker()
        simulator.reset(latency=LATENCY)
        worker = Worker(concurrency=concurrency, api_url=simulator.base_url)
        before = simulator.state()
        try:
            figures = app_dispatch(simulator, phones, f"dispatch benchmark x{tasks}", tasks)
        finally:
            worker.stop()
        connections = simulator.connections_since(before)
        requests = len(simulator.requests("sendsms.aspx"))
        duplicates = simulator.duplicates()
        lower_bound = requests * LATENCY / tasks
        label = "1 task" if tasks == 1 else f"{tasks} tasks on one message"
        print(
            f"  app, {tasks} task(s) on a {concurrency}-process worker: {requests} requests, "
            f"{connections} connections, dispatch {fmt_seconds(figures['dispatch'])}"
            f" (lower bound {fmt_seconds(lower_bound)}), enqueue {fmt_seconds(figures['enqueue'])},"
            f" submitted {figures['submitted']}, duplicates {duplicates}",
            flush=True,
        )
        if requests != -(-count // 50):
            raise SystemExit(f"dispatch made {requests} send requests for {count} numbers")
        if figures["submitted"] != count or duplicates["extra_sends"]:
            raise SystemExit(f"dispatch benchmark: {figures} {duplicates}")
        rows.append(
            Row(
                f"1. dispatch {count:,} recipients, {label}",
                f"{requests} requests, {connections} connection{'s' if connections != 1 else ''}, "
                f"{fmt_seconds(figures['dispatch'])}",
                f"lower bound {requests} x {LATENCY * 1000:.0f} ms / {tasks} = "
                f"{fmt_seconds(lower_bound)}",
                figures["dispatch"] / lower_bound,
                "ratio: wall time / lower bound",
            )
        )
        rows.append(
            Row(
                f"1. dispatch {count:,} recipients, {label}, vs. naive",
                f"{fmt_seconds(figures['dispatch'])}",
                f"naive: {count:,} requests, {count:,} connections, {fmt_seconds(naive_full)} "
                f"(scaled from {sample} measured)",
                naive_full / figures["dispatch"],
                "ratio: naive time / app time (speed-up)",
            )
        )
        last_message = int(figures["message"])
    return rows, last_message

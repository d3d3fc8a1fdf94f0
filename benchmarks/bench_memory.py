"""Memory goal: peak RSS of sending to 100,000 recipients, under 200 MB (three rounds).

A fresh process starts Django, notes its resident size (the baseline: the
project loaded, nothing sent), then calls ``send_sms()`` with 100,000 numbers
and runs the dispatch task in-process (Celery eager) to the simulator, so
validation, storing and all 2,000 send requests happen in the measured
process. Its peak RSS is read from ``getrusage`` at the end. Each round is a
fresh process with fresh numbers; the figure is the peak in MB, the RSS with
the project loaded stands beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from harness import (  # noqa: E402
    BENCHMARKS,
    REPO,
    ROUNDS,
    Goal,
    SimulatorProcess,
    child_env,
    fmt_seconds,
    numbers,
    peak_rss_mb,
    setup_django,
    spread,
    truncate_app_tables,
)

GOAL_MB = 200


def child(count: int, api_url: str, first: int) -> None:
    """Runs in the measured process: prints one JSON line of figures."""
    setup_django(api_url, eager=True)
    from django.db import connection

    from django_smsgo import send_sms
    from django_smsgo.models import Recipient

    connection.ensure_connection()
    loaded = peak_rss_mb()
    phones = numbers(count, first=first)
    started = time.perf_counter()
    message = send_sms(phones, "memory benchmark", encoding="ASCII")
    seconds = time.perf_counter() - started
    submitted = Recipient.objects.filter(message=message, status=Recipient.Status.SUBMITTED).count()
    print(
        json.dumps(
            {
                "loaded_mb": loaded,
                "peak_mb": peak_rss_mb(),
                "seconds": seconds,
                "submitted": submitted,
            }
        )
    )


def run(simulator: SimulatorProcess, quick: bool) -> list[Goal]:
    count = 10_000 if quick else 100_000
    peaks: list[float] = []
    loaded: list[float] = []
    seconds: list[float] = []
    for round_number in range(ROUNDS):
        truncate_app_tables()
        simulator.reset()
        figures = _one_round(simulator, count, first=70_000_000 + round_number * 1_000_000)
        peaks.append(figures["peak_mb"])
        loaded.append(figures["loaded_mb"])
        seconds.append(figures["seconds"])
    return [
        Goal(
            f"memory: peak RSS sending to {count:,} recipients (send_sms() and dispatch in one "
            "process)",
            "<=",
            GOAL_MB,
            peaks,
            f"peak RSS {spread(peaks, lambda v: f'{v:.0f} MB')}; {count:,} numbers stored and "
            f"sent in {spread(seconds, fmt_seconds)}",
            "the same process with the project loaded, before sending: "
            + spread(loaded, lambda v: f"{v:.0f} MB"),
            unit="MB",
        )
    ]


def _one_round(simulator: SimulatorProcess, count: int, first: int) -> dict[str, float]:
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_memory.py"),
            "--child",
            "--recipients",
            str(count),
            "--first",
            str(first),
            "--api-url",
            simulator.base_url,
        ],
        env=child_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if completed.returncode != 0:
        print(completed.stderr[-3000:], file=sys.stderr)
        raise SystemExit("the memory benchmark's process failed")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    requests = len(simulator.requests("sendsms.aspx"))
    duplicates = simulator.duplicates()
    print(f"  {figures}, {requests} send requests, duplicates {duplicates}", flush=True)
    if figures["submitted"] != count or duplicates["extra_sends"]:
        raise SystemExit(f"memory benchmark submitted {figures['submitted']} of {count}")
    return dict(figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--first", type=int, default=70_000_000)
    parser.add_argument("--api-url", required=True)
    arguments = parser.parse_args()
    child(arguments.recipients, arguments.api_url, arguments.first)

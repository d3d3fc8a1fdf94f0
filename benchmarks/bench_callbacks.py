"""Benchmark 3: Phase-Two callbacks per second, by ``benchmarks/callbacks_load.py``.

That script (gunicorn on PostgreSQL, the app's delivery-report view against a
minimal one-UPDATE view, loopback load) is run as it is; this module only
reads its summary line into the table.
"""

from __future__ import annotations

import re
import subprocess
import sys

from harness import BENCHMARKS, DATABASE_URL, REPO, Row, child_env


def run(quick: bool) -> list[Row]:
    database_url = DATABASE_URL.rsplit("/", 1)[0] + "/smsgo_bench_callbacks"
    sizes = ["--recipients", "300", "--rounds", "1"] if quick else ["--recipients", "1500"]
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "callbacks_load.py"),
            "--database-url",
            database_url,
            *sizes,
        ],
        env={k: v for k, v in child_env().items() if k != "DJANGO_SETTINGS_MODULE"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = completed.stdout
    for line in output.splitlines():
        print(f"  {line}", flush=True)
    if completed.returncode != 0:
        print(completed.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"callbacks_load.py exited with {completed.returncode}")
    best = re.search(r"best: baseline (\d+)/s, smsgo (\d+)/s, ratio ([\d.]+) \((.*)\)", output)
    if not best:
        raise SystemExit("callbacks_load.py printed no summary line")
    baseline, app, ratio, setup = best.groups()
    lost = re.findall(r"lost (\d+), doubled (\d+)", output)
    checks = "per round: " + "; ".join(f"lost {a}, doubled {b}" for a, b in lost)
    return [
        Row(
            "3. callbacks: delivery reports through gunicorn on PostgreSQL",
            f"{app} reports/s ({checks})",
            f"minimal view doing one indexed UPDATE: {baseline} reports/s",
            float(ratio),
            f"ratio: app / minimal view (best round; {setup})",
        )
    ]

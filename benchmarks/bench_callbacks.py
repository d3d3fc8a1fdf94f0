"""Callbacks goal: delivery reports per second through gunicorn, by ``callbacks_load.py``.

That script (gunicorn on PostgreSQL; the app's delivery-report view against
a minimal view whose one ``UPDATE`` changes the recipient's indexed
``status``; loopback load; the order of the two alternating from round to
round; every round checked for lost and doubled reports) is run as it is;
this module reads its per-round ratios into the table.
"""

from __future__ import annotations

import re
import subprocess
import sys

from harness import BENCHMARKS, DATABASE_URL, REPO, ROUNDS, Goal, child_env, spread


def run(quick: bool) -> list[Goal]:
    database_url = DATABASE_URL.rsplit("/", 1)[0] + "/" + _name() + "_callbacks"
    recipients = "300" if quick else "1500"
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "callbacks_load.py"),
            "--database-url",
            database_url,
            "--recipients",
            recipients,
            "--rounds",
            str(ROUNDS),
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
    found = re.search(r"^ratios: (.*)$", output, re.MULTILINE)
    if not found:
        raise SystemExit("callbacks_load.py printed no ratios")
    ratios = [float(value) for value in found.group(1).split(",")]
    rates: dict[str, list[float]] = {"baseline": [], "smsgo": []}
    for target, rate in re.findall(r"^round \d+ (\w+) .*?, (\d+)/s", output, re.MULTILINE):
        rates[target].append(float(rate))
    lost = re.findall(r"lost (\d+), doubled (\d+)", output)
    checks = "; ".join(f"lost {a}, doubled {b}" for a, b in lost)
    return [
        Goal(
            f"callbacks: delivery reports through gunicorn ({recipients} recipients x 2 "
            "arrivals, order alternating)",
            ">=",
            0.9,
            ratios,
            f"app view: {spread(rates['smsgo'], lambda v: f'{v:.0f}/s')} ({checks})",
            "one-UPDATE view changing the indexed status: "
            + spread(rates["baseline"], lambda v: f"{v:.0f}/s"),
        )
    ]


def _name() -> str:
    return DATABASE_URL.rsplit("/", 1)[1]

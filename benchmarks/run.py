"""Run every benchmark and print each goal of the table beside its same-round anchor.

Every goal is measured in three rounds; in each round the app's figure and its
anchor (or baseline) are measured one right after the other, so each round
gives one ratio, and the table shows the min / median / max of the three with
a PASS or FAIL of the median against the goal. Needs PostgreSQL and Redis on
loopback (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/smsgo_bench``, dropped and created again;
``BENCH_BROKER_URL``, default ``redis://127.0.0.1:6379/5``). Usage::

    .venv/bin/python benchmarks/run.py [--quick] [--only dispatch,polling,...]
                                       [--output docs/_generated/benchmarks.rst | -]

``BENCH_FULL=1`` adds the 100,000-number dispatch figures (some ten minutes
more). ``--quick`` runs smaller sizes (a smoke run, its figures not the goals').
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from harness import (  # noqa: E402
    FULL,
    REPO,
    ROUNDS,
    Goal,
    SimulatorProcess,
    recreate_database,
    setup_django,
)

ALL = (
    "dispatch",
    "polling",
    "callbacks",
    "report_order",
    "enqueue",
    "memory",
    "admin",
    "send_log",
)


def render(goals: list[Goal], *, quick: bool, seconds: float, load: str) -> str:
    """The table as reStructuredText (a ``list-table``)."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = " (quick sizes)" if quick else (" (BENCH_FULL=1)" if FULL else "")
    lines = [
        ".. This file is written by benchmarks/run.py; do not edit it by hand.",
        "",
        f"Measured {today} on {platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s),"
        f" Python {platform.python_version()}, PostgreSQL and Redis on loopback{sizes}; "
        f"{ROUNDS} rounds; the run took {seconds / 60:.0f} min; load average {load}.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 26 10 14 8 21 21",
        "",
        "   * - Goal",
        "     - Rule",
        "     - min / median / max",
        "     - Verdict (median)",
        "     - App (min/median/max)",
        "     - Anchor, same round (min/median/max)",
    ]
    for goal in goals:
        cells = (goal.name, goal.goal_text, goal.figures, goal.verdict, goal.measured, goal.anchor)
        for index, cell in enumerate(cells):
            prefix = "   * - " if index == 0 else "     - "
            lines.append(prefix + (cell.replace("\n", " ") or " "))
    return "\n".join(lines) + "\n"


def print_table(goals: list[Goal]) -> None:
    width = max(len(goal.name) for goal in goals)
    print()
    print(f"{'goal':<{width}}  {'rule':<10}  {'min / median / max':<22}  verdict")
    for goal in goals:
        print(f"{goal.name:<{width}}  {goal.goal_text:<10}  {goal.figures:<22}  {goal.verdict}")
        print(f"{'':<{width}}    app:    {goal.measured}")
        print(f"{'':<{width}}    anchor: {goal.anchor}")


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated subset")
    parser.add_argument(
        "--output",
        default=str(REPO / "docs" / "_generated" / "benchmarks.rst"),
        help="where to write the table ('-' prints it)",
    )
    options = parser.parse_args()
    chosen = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ALL))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join(ALL)}")

    started = time.perf_counter()
    load = load_average()
    print(f"load average at the start: {load}", flush=True)
    recreate_database()
    simulator = SimulatorProcess()
    goals: list[Goal] = []
    try:
        setup_django(simulator.base_url)
        import importlib

        for name in ALL:
            if name not in chosen:
                continue
            print(f"== {name}", flush=True)
            module = importlib.import_module(f"bench_{name}")
            if name in ("dispatch", "polling", "memory"):
                produced = module.run(simulator, options.quick)
            else:
                produced = module.run(options.quick)
            for goal in produced:
                print(f"  -> {goal.name}: {goal.figures} {goal.verdict}", flush=True)
            goals += produced
    finally:
        simulator.stop()
    load += f" at the start, {load_average()} at the end"
    print_table(goals)
    table = render(goals, quick=options.quick, seconds=time.perf_counter() - started, load=load)
    if options.output == "-":
        print(table)
    else:
        Path(options.output).parent.mkdir(parents=True, exist_ok=True)
        Path(options.output).write_text(table, encoding="utf-8")
        print(f"table written to {options.output}")


if __name__ == "__main__":
    main()

"""Run every benchmark and write the table (``make bench``).

Each figure is a ratio against a baseline measured in the same run, because
the machine may be shared and noisy; absolute times stand beside it. Needs
PostgreSQL and Redis on loopback (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/smsgo_bench``, dropped and created again;
``BENCH_BROKER_URL``, default ``redis://127.0.0.1:6379/5``). Usage::

    .venv/bin/python benchmarks/run.py [--quick] [--only dispatch,enqueue,...]
                                       [--output docs/_generated/benchmarks.rst | -]

``--quick`` runs smaller sizes (a smoke run for CI); the docs' figures come
from a run without it.
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
    REPO,
    Row,
    SimulatorProcess,
    recreate_database,
    setup_django,
)

# Polling settles the recipients the dispatch benchmark submitted, so it runs next.
ALL = ("dispatch", "polling", "enqueue", "callbacks", "memory", "admin", "send_log")


def render(rows: list[Row], *, quick: bool, seconds: float, skipped: list[str]) -> str:
    """The table as reStructuredText (a ``list-table``)."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cpu = os.cpu_count()
    lines = [
        ".. This file is written by benchmarks/run.py; do not edit it by hand.",
        "",
        f"Measured {today} on {platform.system()} {platform.machine()}, {cpu} CPU(s), "
        f"Python {platform.python_version()}, PostgreSQL and Redis on loopback"
        f"{' (quick sizes)' if quick else ''}; the run took {seconds:.0f} s.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 24 30 30 8 20",
        "",
        "   * - Benchmark",
        "     - Measured",
        "     - Baseline (same run)",
        "     - Ratio",
        "     - Ratio means",
    ]
    for row in rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "n/a"
        for index, cell in enumerate(
            (row.benchmark, row.measured, row.baseline, ratio, row.note or "")
        ):
            prefix = "   * - " if index == 0 else "     - "
            lines.append(prefix + (cell.replace("\n", " ") or " "))
    if skipped:
        lines += ["", "Not measured in this run: " + "; ".join(skipped) + "."]
    return "\n".join(lines) + "\n"


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
    recreate_database()
    simulator = SimulatorProcess()
    rows: list[Row] = []
    skipped: list[str] = []
    try:
        setup_django(simulator.base_url)
        import importlib

        polling_message = 0
        for name in ALL:
            if name not in chosen:
                continue
            print(f"== {name}", flush=True)
            module = importlib.import_module(f"bench_{name}")
            if name == "dispatch":
                produced, polling_message = module.run(simulator, options.quick)
            elif name == "polling":
                produced = module.run(simulator, options.quick, polling_message)
            elif name in ("memory",):
                produced = module.run(simulator, options.quick)
            else:
                produced = module.run(options.quick)
            for row in produced:
                print(f"  -> {row.benchmark}: {row.measured} | {row.baseline} | {row.ratio}")
            rows += produced
    finally:
        simulator.stop()
    rows.sort(key=lambda row: int(row.benchmark.split(".", 1)[0]))  # the order
    table = render(
        rows, quick=options.quick, seconds=time.perf_counter() - started, skipped=skipped
    )
    if options.output == "-":
        print(table)
    else:
        Path(options.output).parent.mkdir(parents=True, exist_ok=True)
        Path(options.output).write_text(table, encoding="utf-8")
        print(f"table written to {options.output}")


if __name__ == "__main__":
    main()

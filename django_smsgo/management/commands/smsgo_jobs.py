"""``manage.py smsgo_jobs``: the sweeper, polling and the balance refresh, without Celery beat.

Two ways to run it:

* ``smsgo_jobs --once`` from cron (every minute): runs each job that is due
  once and exits. What is due is read from the database, so cron's minute
  and the jobs' intervals need not match.
* ``smsgo_jobs`` under a process manager (systemd, supervisord, a terminal):
  runs each job on its interval until SIGTERM or SIGINT, then finishes the
  job in progress and exits 0.

The intervals are ``SMSGO["SWEEP_INTERVAL"]``, ``["POLL_INTERVAL"]`` and
``["BALANCE_INTERVAL"]``; ``--sweep-every`` and friends override them for one
run. In inline dispatch mode the sweep also dispatches the retries that have
come due, and any message whose dispatch was lost (the process that stored it
died): this command is what makes inline mode keep its promises.
"""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from django_smsgo.services import jobs

#: Longest sleep between two looks at the schedule (a stop is noticed at once anyway).
MAX_NAP = 5.0


class Command(BaseCommand):
    help = (
        "Run django-smsgo's periodic jobs (sweep, poll, balance) on their intervals: "
        "--once for cron, or as a long-running loop under a process manager."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="run each job that is due once, then exit (cron)"
        )
        parser.add_argument(
            "--only",
            choices=jobs.JOB_NAMES,
            action="append",
            help="run only this job (repeatable); default: all",
        )
        for name in jobs.JOB_NAMES:
            setting = jobs.INTERVAL_SETTINGS[name]
            parser.add_argument(
                f"--{name}-every",
                type=float,
                metavar="SECONDS",
                help=f"interval of the {name} job (default SMSGO['{setting}'])",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        names = tuple(options["only"] or jobs.JOB_NAMES)
        intervals = {
            name: options[f"{name}_every"]
            for name in jobs.JOB_NAMES
            if options[f"{name}_every"] is not None
        }
        if any(seconds <= 0 for seconds in intervals.values()):
            raise CommandError("Intervals must be more than 0 seconds.")
        if options["once"]:
            self.run_once(names, intervals)
        else:
            self.run_forever(names, intervals)

    def run_once(self, names: tuple[str, ...], intervals: dict[str, float]) -> None:
        outcomes = jobs.run_due(
            names, runner=jobs.runner_name("smsgo_jobs --once"), intervals=intervals
        )
        for outcome in outcomes:
            self.report(outcome)
        if not outcomes:
            self.stdout.write("No job is due.")
        if any(not outcome.succeeded for outcome in outcomes):
            raise CommandError("A job failed; see the log above.")

    def run_forever(self, names: tuple[str, ...], intervals: dict[str, float]) -> None:
        stop = threading.Event()
        runner = jobs.runner_name("smsgo_jobs")
        every = ", ".join(f"{name} every {jobs.interval(name, intervals):g} s" for name in names)
        with _stop_on_signals(stop):
            self.stdout.write(f"smsgo_jobs: running ({every}); stop with Ctrl-C or SIGTERM.")
            self.stdout.flush()
            while not stop.is_set():
                for outcome in jobs.run_due(names, runner=runner, intervals=intervals):
                    self.report(outcome)
                # A long-lived process: drop connections the database closed meanwhile.
                close_old_connections()
                wait = jobs.seconds_until_due(names, intervals=intervals)
                stop.wait(min(MAX_NAP, max(wait, 0.2)))
        self.stdout.write("smsgo_jobs: stopped.")

    def report(self, outcome: jobs.JobOutcome) -> None:
        line = f"{outcome.name}: {outcome.summary}"
        if outcome.succeeded:
            self.stdout.write(line)
        else:
            self.stderr.write(f"{line} (failed)")
        self.stdout.flush()


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGTERM and SIGINT (the loop ends after the job in progress)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

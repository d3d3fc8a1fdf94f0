"""The periodic jobs — sweep, poll, balance — run on their intervals by whoever runs them.

Without Celery beat, ``manage.py smsgo_jobs`` runs them (``--once`` from cron,
or as a loop under a process manager); with beat, the Celery tasks do. Either
way each run goes through :func:`run_job`, which records it in ``JobRun``: the
record tells ``smsgo_jobs --once`` which job is due, and ``smsgo_doctor``
whether the jobs run at all.

The jobs and their default intervals (``SMSGO`` settings, seconds):

``sweep`` (``SWEEP_INTERVAL``, 60)
    :func:`~django_smsgo.services.sweeper.sweep`: expired claims, lost
    enqueues, stalled and due scheduled messages, pending reports — and, in
    inline mode, the retries that have come due (no Celery task waits for them).
``poll`` (``POLL_INTERVAL``, 300)
    :func:`~django_smsgo.services.polling.poll_delivery_status`: statuses no
    report brought.
``balance`` (``BALANCE_INTERVAL``, 1800)
    :func:`~django_smsgo.services.balance.refresh_balance`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import JobRun
from django_smsgo.services import balance, polling, sweeper

logger = logging.getLogger(__name__)

#: The jobs, in the order they run when several are due.
JOB_NAMES = ("sweep", "poll", "balance")

#: The setting that holds each job's interval.
INTERVAL_SETTINGS = {
    "sweep": "SWEEP_INTERVAL",
    "poll": "POLL_INTERVAL",
    "balance": "BALANCE_INTERVAL",
}

#: A job counts as due this much before its interval is over, so that a cron
#: line every minute runs a 60-second job every minute, not every other one.
EARLY = 0.1  # of the interval, at most MAX_EARLY seconds
MAX_EARLY = 5.0


@dataclass(frozen=True)
class JobOutcome:
    """What one run of a job did."""

    name: str
    succeeded: bool
    summary: str


def interval(name: str, intervals: Mapping[str, float] | None = None) -> float:
    """Seconds between two runs of job ``name``: from ``intervals``, else its ``SMSGO`` setting."""
    if intervals and name in intervals:
        return float(intervals[name])
    return float(smsgo_settings.user_settings[INTERVAL_SETTINGS[name]])


def runner_name(kind: str) -> str:
    """Who runs a job, for the record: ``"<kind> on <host> (pid <pid>)"``."""
    return f"{kind} on {socket.gethostname()} (pid {os.getpid()})"[:200]


def _sweep() -> str:
    result = sweeper.sweep()
    redispatched = sweeper.redispatch_due_retries()
    return (
        f"{len(result.expired_batches)} lease(s) expired, {len(result.reenqueued)} re-enqueued, "
        f"{len(redispatched)} retried, {len(result.settled)} settled, "
        f"{len(result.now_submitted)} scheduled now submitted, "
        f"{result.reports_applied} pending report(s) applied"
    )


def _poll() -> str:
    result = polling.poll_delivery_status()
    if result.error:
        raise JobFailed(f"polling stopped early: {result.error}")
    return (
        f"asked about {result.asked} recipient(s) in {result.requests} request(s); "
        f"{result.changed} changed, {result.given_up} given up"
    )


def _balance() -> str:
    return f"{balance.refresh_balance().points} points"


JOBS: dict[str, Callable[[], str]] = {"sweep": _sweep, "poll": _poll, "balance": _balance}


class JobFailed(Exception):
    """A job ran but could not do its work (the next run tries again)."""


def run_job(name: str, *, runner: str) -> JobOutcome:
    """Run job ``name`` now and record the run; errors are recorded and logged, not raised.

    A job is safe to run concurrently with itself (every step of each is), so
    this does not wait for or exclude other runners: :func:`claim_due` does
    that for runners that share a schedule.
    """
    try:
        with recorded(name, runner=runner) as record:
            record.summary = JOBS[name]()
    except Exception:
        # Configuration errors included: the job is logged at ERROR on every
        # run, and smsgo_doctor shows the last error, until the settings are fixed.
        logger.exception("Periodic job %s failed.", name)
    return JobOutcome(name, record.succeeded, record.summary)


@dataclass
class Record:
    """What :func:`recorded` stores when its block ends."""

    summary: str = ""
    succeeded: bool = False


@contextmanager
def recorded(name: str, *, runner: str) -> Iterator[Record]:
    """Record a run of job ``name`` around the block (the Celery tasks use it too).

    Set ``summary`` on the yielded record; an exception marks the run failed
    with the error as its summary, and goes on.
    """
    record = Record()
    _record_start(name, timezone.now(), runner)
    try:
        yield record
        record.succeeded = True
    except Exception as exc:
        record.summary = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        JobRun.objects.filter(name=name).update(
            finished_at=timezone.now(), succeeded=record.succeeded, summary=record.summary[:500]
        )


def _record_start(name: str, started: datetime, runner: str) -> None:
    updated = JobRun.objects.filter(name=name).update(started_at=started, runner=runner)
    if not updated:
        try:
            JobRun.objects.create(name=name, started_at=started, runner=runner)
        except IntegrityError:  # another runner created the row meanwhile
            JobRun.objects.filter(name=name).update(started_at=started, runner=runner)


def due_threshold(
    name: str, now: datetime, intervals: Mapping[str, float] | None = None
) -> datetime:
    """A job whose last run started at or before this moment is due."""
    every = interval(name, intervals)
    return now - timedelta(seconds=every - min(every * EARLY, MAX_EARLY))


def claim_due(
    name: str, *, now: datetime | None = None, intervals: Mapping[str, float] | None = None
) -> bool:
    """Claim job ``name`` if it is due; True when this caller is to run it now.

    The claim moves ``started_at`` to now only if it is still old enough, in
    one conditional UPDATE: of two runners asking at the same moment, one wins.
    """
    now = now or timezone.now()
    threshold = due_threshold(name, now, intervals)
    JobRun.objects.get_or_create(name=name)
    claimed = (
        JobRun.objects.filter(name=name)
        .filter(Q(started_at__isnull=True) | Q(started_at__lte=threshold))
        .update(started_at=now)
    )
    return claimed == 1


def run_due(
    names: Iterable[str] = JOB_NAMES,
    *,
    runner: str,
    intervals: Mapping[str, float] | None = None,
) -> list[JobOutcome]:
    """Run, once each, the jobs of ``names`` that are due; return what they did.

    ``intervals`` (job name -> seconds) overrides the settings for this call.
    """
    outcomes = []
    for name in names:
        if claim_due(name, intervals=intervals):
            outcomes.append(run_job(name, runner=runner))
    return outcomes


def seconds_until_due(
    names: Iterable[str] = JOB_NAMES,
    *,
    now: datetime | None = None,
    intervals: Mapping[str, float] | None = None,
) -> float:
    """How long until the first of ``names`` is due (0 when one is due now)."""
    names = list(names)
    now = now or timezone.now()
    last = dict(JobRun.objects.filter(name__in=names).values_list("name", "started_at"))
    waits = []
    for name in names:
        started = last.get(name)
        if started is None:
            return 0.0
        waits.append((started - due_threshold(name, now, intervals)).total_seconds())
    return max(0.0, min(waits)) if waits else 0.0


@dataclass(frozen=True)
class JobHealth:
    """Whether job ``name`` runs: its last run against its interval."""

    name: str
    interval: float
    last_finished: datetime | None
    succeeded: bool
    summary: str
    runner: str

    @property
    def running(self) -> bool:
        """Finished within twice its interval (a run may be late by one interval)."""
        if self.last_finished is None:
            return False
        age = (timezone.now() - self.last_finished).total_seconds()
        return age <= 2 * self.interval + MAX_EARLY


def health() -> list[JobHealth]:
    """Each job's last run, as ``smsgo_doctor`` and the system check read it."""
    rows = {row.name: row for row in JobRun.objects.filter(name__in=JOB_NAMES)}
    found = []
    for name in JOB_NAMES:
        row = rows.get(name)
        found.append(
            JobHealth(
                name=name,
                interval=interval(name),
                last_finished=row.finished_at if row else None,
                succeeded=bool(row and row.succeeded),
                summary=row.summary if row else "",
                runner=row.runner if row else "",
            )
        )
    return found

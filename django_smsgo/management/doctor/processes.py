"""The doctor's checks of what must run beside the site: dispatch, workers, periodic jobs.

For Celery they ask the project's own Celery app (its broker, its workers,
its beat schedule); the periodic jobs are judged from their recorded runs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import SmsgoConfigurationError
from django_smsgo.management.doctor.findings import Finding

#: The Celery tasks beat must schedule, by job.
BEAT_TASKS = {
    "sweep": "django_smsgo.tasks.sweep",
    "poll": "django_smsgo.tasks.poll_delivery_status",
    "balance": "django_smsgo.tasks.refresh_balance",
}


# --- dispatch ---------------------------------------------------------------------------------


def check_dispatch(timeout: float) -> list[Finding]:
    """In-process dispatch, or a reachable broker and a live worker consuming the queues."""
    from django_smsgo.services import dispatching

    try:
        mode = dispatching.mode()
    except SmsgoConfigurationError as exc:
        return [Finding("dispatch", Finding.FAIL, str(exc))]
    if mode == "inline":
        return [
            Finding(
                "dispatch",
                Finding.PASS,
                "inline: each message is sent by the process that stored it, right after "
                "commit; no broker or worker needed",
            )
        ]
    return _check_celery(timeout)


def _check_celery(timeout: float) -> list[Finding]:
    try:
        from celery import current_app
    except ImportError:
        return [
            Finding(
                "dispatch",
                Finding.FAIL,
                "DISPATCH is 'celery' but Celery cannot be imported",
                'pip install "django-smsgo[redis]" (or [rabbitmq]), or DISPATCH "inline".',
            )
        ]
    app = current_app._get_current_object()
    broker = _redacted(str(app.conf.broker_write_url or app.conf.broker_url or "amqp://"))
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        return [
            Finding(
                "dispatch",
                Finding.FAIL,
                f"the Celery broker {broker} cannot be reached ({type(exc).__name__}: {exc})",
                "Start the broker, or set CELERY_BROKER_URL to it (and install its client: "
                'pip install "django-smsgo[redis]"). Without a broker: SMSGO["DISPATCH"] = '
                '"inline".',
            )
        ]
    found = [Finding("dispatch", Finding.PASS, f"the Celery broker {broker} answers")]
    try:
        queues = app.control.inspect(timeout=min(timeout, 3.0)).active_queues() or {}
    except NotImplementedError:
        found.append(
            Finding(
                "workers",
                Finding.WARN,
                f"workers cannot be asked over this broker ({broker.split(':')[0]})",
                "Check yourself that `celery -A <project> worker` runs.",
            )
        )
        return found
    needed = _dispatch_queues(app)
    serving = {q["name"] for worker in queues.values() for q in worker}
    if not queues:
        found.append(
            Finding(
                "workers",
                Finding.FAIL,
                "no Celery worker answered: queued messages wait until one runs",
                "Start one: celery -A <project> worker --loglevel INFO (or set "
                'SMSGO["DISPATCH"] = "inline" to send without workers).',
            )
        )
    elif not needed <= serving:
        found.append(
            Finding(
                "workers",
                Finding.FAIL,
                f"{len(queues)} worker(s) answered, but none consumes "
                f"{', '.join(sorted(needed - serving))}",
                f"Start a worker with -Q {','.join(sorted(needed))}.",
            )
        )
    else:
        found.append(
            Finding(
                "workers",
                Finding.PASS,
                f"{len(queues)} worker(s) consume {', '.join(sorted(needed))}",
            )
        )
    return found


def _dispatch_queues(app: Any) -> set[str]:
    names = {smsgo_settings.QUEUE, *(smsgo_settings.PRIORITY_QUEUES or {}).values()}
    default = str(app.conf.task_default_queue or "celery")
    return {str(name) for name in names if name} or {default}


def _redacted(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


# --- periodic jobs ----------------------------------------------------------------------------


def check_periodic_jobs(timeout: float) -> list[Finding]:
    """Each job's last run, whoever ran it (smsgo_jobs or beat); the fix names the scheduler."""
    from django_smsgo.services import jobs

    found = []
    for job in jobs.health():
        if job.running:
            ago = (timezone.now() - job.last_finished).total_seconds() if job.last_finished else 0
            status = Finding.PASS if job.succeeded else Finding.WARN
            summary = f"{job.name} ran {ago:.0f} s ago by {job.runner or 'unknown'}"
            fix = "" if job.succeeded else f"its last run failed: {job.summary}"
            found.append(Finding(f"job {job.name}", status, summary, fix))
            continue
        # The balance refresh only keeps the balance guard informed: a warning.
        status = Finding.WARN if job.name == "balance" else Finding.FAIL
        when = (
            f"last finished {timezone.localtime(job.last_finished):%Y-%m-%d %H:%M:%S}"
            if job.last_finished
            else "never ran"
        )
        found.append(
            Finding(
                f"job {job.name}",
                status,
                f"{job.name} {when}; it should run every {job.interval:g} s",
                _scheduler_fix(job.name),
            )
        )
    return found


def _scheduler_fix(name: str) -> str:
    from django_smsgo.services import dispatching

    cron = (
        "Run `python manage.py smsgo_jobs` under a process manager, or "
        "`python manage.py smsgo_jobs --once` from cron every minute."
    )
    if dispatching.mode() != "celery":
        return cron
    scheduled = _beat_tasks()
    if BEAT_TASKS[name] in scheduled:
        return "Celery beat has it scheduled but it has not run: start `celery -A <project> beat`."
    return f"Add {BEAT_TASKS[name]} to the beat schedule (docs/tasks.rst) and run beat; or: {cron}"


def _beat_tasks() -> set[str]:
    """The task names the project schedules: its beat schedule, or django-celery-beat's table."""
    from celery import current_app

    tasks = {str(entry.get("task")) for entry in (current_app.conf.beat_schedule or {}).values()}
    if "django_celery_beat" in settings.INSTALLED_APPS:
        try:
            from django_celery_beat.models import PeriodicTask

            tasks |= set(PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True))
        except (ImportError, DatabaseError):
            pass
    return tasks

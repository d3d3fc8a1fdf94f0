"""django-celery-beat: the periodic tasks this app needs, made or brought up to date.

:func:`install_schedule` (``manage.py smsgo_beat``) writes one ``PeriodicTask``
per job, each on a ``CrontabSchedule`` in Asia/Taipei time, and can be run on
every deploy: it changes only what differs, and never makes a second copy.

========================  ===============================  ================================
name                      task                             when (Taipei time)
========================  ===============================  ================================
``smsgo: sweep``          ``django_smsgo.tasks.sweep``     every minute
``smsgo: poll``           ``…poll_delivery_status``        every 5 minutes (every 2 without
                                                           ``CALLBACK_BASE_URL``)
``smsgo: balance``        ``…refresh_balance``             every 30 minutes
``smsgo: cleanup``        ``django_smsgo.tasks.cleanup``   03:30 every night, with
                                                           ``retention_days``
========================  ===============================  ================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from django_smsgo.conf import smsgo_settings

TIMEZONE = "Asia/Taipei"
PREFIX = "smsgo: "


@dataclass(frozen=True)
class Job:
    """One periodic task: its name, task, crontab fields and keyword arguments."""

    name: str
    task: str
    minute: str
    hour: str = "*"
    kwargs: dict[str, Any] = field(default_factory=dict)


def jobs(retention_days: int | None = None, anonymise: bool = False) -> list[Job]:
    """The periodic tasks for the current settings."""
    poll_every = "*/5" if smsgo_settings.CALLBACK_BASE_URL else "*/2"
    wanted = [
        Job(PREFIX + "sweep", "django_smsgo.tasks.sweep", "*"),
        Job(PREFIX + "poll", "django_smsgo.tasks.poll_delivery_status", poll_every),
        Job(PREFIX + "balance", "django_smsgo.tasks.refresh_balance", "*/30"),
    ]
    if retention_days is not None:
        if retention_days < 1:
            raise ValueError(f"retention_days {retention_days!r} must be at least 1")
        wanted.append(
            Job(
                PREFIX + "cleanup",
                "django_smsgo.tasks.cleanup",
                "30",
                "3",
                {"days": retention_days, "anonymise": anonymise},
            )
        )
    return wanted


@dataclass
class ScheduleResult:
    """The names of the tasks created, updated, left as they were, and disabled."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


def install_schedule(
    retention_days: int | None = None, *, anonymise: bool = False, dry_run: bool = False
) -> ScheduleResult:
    """Create or update the periodic tasks; disable ours that are no longer wanted.

    Idempotent: a second run with the same settings changes nothing. With
    ``dry_run`` the result says what would change and nothing is written.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    result = ScheduleResult()
    wanted = jobs(retention_days, anonymise)
    with transaction.atomic():
        for job in wanted:
            schedule = _crontab(CrontabSchedule, job, dry_run)
            fields = {
                "task": job.task,
                "crontab": schedule,
                "interval": None,
                "kwargs": json.dumps(job.kwargs, sort_keys=True),
                "enabled": True,
            }
            existing = PeriodicTask.objects.filter(name=job.name).first()
            if existing is None:
                result.created.append(job.name)
                if not dry_run:
                    PeriodicTask.objects.create(name=job.name, **fields)
                continue
            if _differs(existing, fields):
                result.updated.append(job.name)
                if not dry_run:
                    for key, value in fields.items():
                        setattr(existing, key, value)
                    existing.save()
            else:
                result.unchanged.append(job.name)
        stale = PeriodicTask.objects.filter(name__startswith=PREFIX, enabled=True).exclude(
            name__in=[job.name for job in wanted]
        )
        for task in stale:
            result.disabled.append(task.name)
            if not dry_run:
                task.enabled = False
                task.save()
        if dry_run:
            transaction.set_rollback(True)
    return result


def _crontab(model: Any, job: Job, dry_run: bool) -> Any:
    values = {
        "minute": job.minute,
        "hour": job.hour,
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": TIMEZONE,
    }
    found = model.objects.filter(**values).first()
    if found is not None:
        return found
    return model.objects.create(**values)


def _differs(task: Any, fields: dict[str, Any]) -> bool:
    for key, value in fields.items():
        current = getattr(task, key)
        if key == "kwargs":
            if json.loads(current or "{}") != json.loads(value):
                return True
        elif key == "crontab":
            if task.crontab_id != (value.pk if value else None):
                return True
        elif current != value:
            return True
    return False

"""manage.py smsgo_beat: django-celery-beat's periodic tasks, idempotent, on Taipei crontabs."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO

import pytest

pytest.importorskip("django_celery_beat")

from django.core.management import CommandError, call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

pytestmark = pytest.mark.django_db


def beat(*args: str) -> str:
    out = StringIO()
    call_command("smsgo_beat", *args, stdout=out)
    return out.getvalue()


def schedule() -> dict[str, tuple[str, str, str, str]]:
    return {
        t.name: (t.task, t.crontab.minute, t.crontab.hour, str(t.crontab.timezone))
        for t in PeriodicTask.objects.select_related("crontab")
    }


def test_the_tasks_are_created_on_taipei_crontabs(configure: Callable[..., None]) -> None:
    configure(CALLBACK_BASE_URL="https://shop.example")
    assert "created: smsgo: sweep, smsgo: poll, smsgo: balance" in beat()
    assert schedule() == {
        "smsgo: sweep": ("django_smsgo.tasks.sweep", "*", "*", "Asia/Taipei"),
        "smsgo: poll": ("django_smsgo.tasks.poll_delivery_status", "*/5", "*", "Asia/Taipei"),
        "smsgo: balance": ("django_smsgo.tasks.refresh_balance", "*/30", "*", "Asia/Taipei"),
    }


def test_running_again_changes_nothing() -> None:
    beat("--retention-days", "365")
    tasks = list(PeriodicTask.objects.order_by("pk").values())
    crontabs = CrontabSchedule.objects.count()
    assert "unchanged: smsgo: sweep, smsgo: poll, smsgo: balance, smsgo: cleanup" in beat(
        "--retention-days", "365"
    )
    assert list(PeriodicTask.objects.order_by("pk").values()) == tasks
    assert CrontabSchedule.objects.count() == crontabs


def test_settings_changes_are_brought_up_to_date(configure: Callable[..., None]) -> None:
    beat("--retention-days", "365")
    poll = PeriodicTask.objects.get(name="smsgo: poll")
    poll.enabled = False
    poll.save()
    configure(CALLBACK_BASE_URL=None)  # polling is then the only source of reports
    out = beat("--retention-days", "30", "--anonymise")
    assert "updated: smsgo: poll, smsgo: cleanup" in out
    assert schedule()["smsgo: poll"][1] == "*/2"
    assert PeriodicTask.objects.get(name="smsgo: poll").enabled
    cleanup = PeriodicTask.objects.get(name="smsgo: cleanup")
    assert json.loads(cleanup.kwargs) == {"days": 30, "anonymise": True}
    assert (cleanup.crontab.minute, cleanup.crontab.hour) == ("30", "3")
    # Without retention the cleanup task is switched off, not left running.
    assert "disabled: smsgo: cleanup" in beat()
    assert not PeriodicTask.objects.get(name="smsgo: cleanup").enabled


def test_a_dry_run_writes_nothing_and_bad_input_is_refused() -> None:
    assert "Would be created" in beat("--dry-run")
    assert not PeriodicTask.objects.exists()
    assert not CrontabSchedule.objects.exists()
    with pytest.raises(CommandError, match="at least 1"):
        beat("--retention-days", "0")

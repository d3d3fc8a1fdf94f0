"""Celery tasks beyond sending: retention. Thin, like ``django_smsgo.tasks``.

The task is registered as ``django_smsgo.tasks.cleanup``, the name it keeps
when it moves into ``django_smsgo.tasks``; until then a worker must import
this module (``CELERY_IMPORTS = ["django_smsgo.integrations.tasks"]``, which
``manage.py smsgo_beat`` reminds of).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from django_smsgo.services.retention import DEFAULT_BATCH_SIZE
from django_smsgo.services.retention import cleanup as run_cleanup


@shared_task(name="django_smsgo.tasks.cleanup", ignore_result=True)
def cleanup(
    days: int, anonymise: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, Any]:
    """``manage.py smsgo_cleanup --days N`` in a worker; returns the rows touched per kind."""
    result = run_cleanup(days, anonymise=anonymise, batch_size=batch_size)
    return {"cutoff": result.cutoff.isoformat(), "anonymise": anonymise, **result.counts}

"""Celery tasks: thin entry points that call a service with a primary key, and the enqueueing.

Arguments are primary keys only, never credentials or message text. The
project owns the Celery app; these are plain ``shared_task`` s, wired in by
the app's ``ready()`` (:class:`CeleryDispatcher`) only when Celery can be
imported. The beat schedule is in ``docs/tasks.rst``.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerError

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import Message
from django_smsgo.services import balance, cancelling, dispatch, jobs, polling, retention, sweeper

logger = logging.getLogger(__name__)


class CeleryDispatcher:
    """Enqueues ``dispatch_message`` on the queue of the message's priority."""

    def enqueue(self, message: Message, *, tasks: int) -> None:
        """Enqueue ``tasks`` dispatch tasks for ``message``, which share its batches.

        A broker that is down is logged, not raised: the message stays queued
        and the sweeper enqueues it again after ``ENQUEUE_SWEEP_AGE`` seconds.
        """
        try:
            for _ in range(tasks):
                dispatch_message.apply_async(args=[message.pk], **queue_options(message.priority))
        except (OSError, BrokerError) as exc:
            logger.error(
                "Could not enqueue dispatch of message %s (%s); the sweeper will enqueue it again.",
                message.pk,
                type(exc).__name__,
            )


def queue_for(priority: str) -> str | None:
    """The Celery queue for ``priority`` (``PRIORITY_QUEUES``), else ``QUEUE``, else the default."""
    queues = smsgo_settings.PRIORITY_QUEUES or {}
    return queues.get(priority) or smsgo_settings.QUEUE


def queue_options(priority: str) -> dict[str, Any]:
    """``apply_async`` options that route a dispatch task of ``priority``."""
    queue = queue_for(priority)
    return {"queue": queue} if queue else {}


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch_message(message_id: int) -> dict[str, Any]:
    """Send the unclaimed recipients of a message (safe to run twice: claims prevent re-sends).

    ``acks_late`` and ``reject_on_worker_lost``: a worker that dies mid-run
    leaves the task to be delivered again; that run sends only what no batch
    has claimed. When dispatch asks for a retry (a request surely did not
    reach the gateway) a new task is enqueued for that time; dispatch counts
    the attempts on the message and fails what is left after
    ``SEND_RETRY_MAX`` of them.
    """
    result = dispatch.dispatch_message(message_id)
    if result.retry_at is not None:
        priority = Message.objects.filter(pk=message_id).values_list("priority", flat=True)
        dispatch_message.apply_async(
            args=[message_id], eta=result.retry_at, **queue_options(priority.first() or "")
        )
    return {
        "message": message_id,
        "status": result.status,
        "submitted": result.submitted,
        "failed": result.failed,
        "uncertain": result.uncertain,
    }


@shared_task(ignore_result=True)
def cancel_message(message_id: int) -> dict[str, Any]:
    """Cancel a message (:func:`~django_smsgo.services.cancelling.cancel_message`)."""
    outcome = cancelling.cancel_message(Message.objects.get(pk=message_id))
    return {
        "message": message_id,
        "status": outcome.status,
        "cancelled_locally": outcome.cancelled_locally,
        "batches": {b.msgid: b.cancelled for b in outcome.batches},
    }


@shared_task(ignore_result=True)
def poll_delivery_status(min_age: float | None = None) -> dict[str, Any]:
    """Ask the gateway about submitted recipients that have no final status yet."""
    with jobs.recorded("poll", runner=jobs.runner_name("celery")) as record:
        result = polling.poll_delivery_status(min_age)
        record.summary = f"asked {result.asked}, changed {result.changed} {result.error}".strip()
    return {
        "asked": result.asked,
        "requests": result.requests,
        "changed": result.changed,
        "given_up": result.given_up,
        "error": result.error,
    }


@shared_task(ignore_result=True)
def refresh_balance() -> int:
    """Store the account balance; sends ``balance_low`` below ``LOW_BALANCE_THRESHOLD``."""
    with jobs.recorded("balance", runner=jobs.runner_name("celery")) as record:
        points = balance.refresh_balance().points
        record.summary = f"{points} points"
    return points


@shared_task(ignore_result=True)
def sweep() -> dict[str, Any]:
    """Expire dead claims, re-enqueue lost dispatches, move due scheduled messages on.

    Each run of this task and of the two above is recorded (``JobRun``), so
    ``smsgo_doctor`` sees that beat schedules them.
    """
    with jobs.recorded("sweep", runner=jobs.runner_name("celery")) as record:
        result = sweeper.sweep()
        record.summary = f"{len(result.reenqueued)} re-enqueued"
    return {
        "expired_batches": result.expired_batches,
        "reenqueued": result.reenqueued,
        "settled": result.settled,
        "now_submitted": result.now_submitted,
        "reports_applied": result.reports_applied,
        "tallies_folded": result.tallies_folded,
    }


@shared_task(ignore_result=True)
def cleanup(
    days: int, anonymise: bool = False, batch_size: int = retention.DEFAULT_BATCH_SIZE
) -> dict[str, Any]:
    """``manage.py smsgo_cleanup --days N`` in a worker; returns the rows touched per kind."""
    result = retention.cleanup(days, anonymise=anonymise, batch_size=batch_size)
    return {"cutoff": result.cutoff.isoformat(), "anonymise": anonymise, **result.counts}

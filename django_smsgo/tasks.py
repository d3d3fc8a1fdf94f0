"""Celery tasks: thin entry points that load by primary key and call a service.

Arguments are primary keys only, never credentials or message text. The
project owns the Celery app; these are plain ``shared_task`` s. The beat
schedule is in ``docs/tasks.rst``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Task, shared_task

from django_smsgo.conf import smsgo_settings
from django_smsgo.services import balance, dispatch, polling, sweeper


def retry_countdown(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: ``SEND_RETRY_BACKOFF`` doubled each time."""
    return float(smsgo_settings.SEND_RETRY_BACKOFF) * (2**retries)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch_message(self: Task, message_id: int) -> dict[str, Any]:
    """Send the queued recipients of a message (safe to run twice: claims prevent re-sends).

    ``acks_late`` and ``reject_on_worker_lost``: a worker that dies mid-run
    leaves the task to be delivered again; that run sends only what no batch
    has claimed. When a request
    surely did not reach the gateway the task retries itself with exponential
    backoff, ``SEND_RETRY_MAX`` times; the last attempt fails what is left.
    """
    from django.utils import timezone

    from django_smsgo.models import Message

    retries = int(self.request.retries or 0)
    final_attempt = retries >= int(smsgo_settings.SEND_RETRY_MAX)
    result = dispatch.dispatch_message(message_id, final_attempt=final_attempt)
    if result.retry and not final_attempt:
        if self.request.is_eager:
            # Eager mode (tests, development) has no broker to hold a delayed
            # retry: run the next attempt at once, counting it like a retry.
            retried: dict[str, Any] = self.apply(args=[message_id], retries=retries + 1).get(
                disable_sync_subtasks=False
            )
            return retried
        countdown = retry_countdown(retries)
        # The sweeper leaves the message alone until the retry is overdue.
        Message.objects.filter(pk=message_id).update(
            dispatch_due_at=timezone.now() + timedelta(seconds=countdown)
        )
        raise self.retry(countdown=countdown, max_retries=int(smsgo_settings.SEND_RETRY_MAX))
    return {
        "message": message_id,
        "status": result.status,
        "submitted": result.submitted,
        "failed": result.failed,
        "uncertain": result.uncertain,
    }


@shared_task(ignore_result=True)
def cancel_message(message_id: int) -> dict[str, Any]:
    """Cancel a message (see ``Message.cancel()``); the outcome per msgid is returned."""
    from django_smsgo.models import Message
    from django_smsgo.services.cancelling import cancel_message as cancel

    outcome = cancel(Message.objects.get(pk=message_id))
    return {
        "message": message_id,
        "status": outcome.status,
        "cancelled_locally": outcome.cancelled_locally,
        "batches": {b.msgid: b.cancelled for b in outcome.batches},
    }


@shared_task(ignore_result=True)
def poll_delivery_status(min_age: float | None = None) -> dict[str, Any]:
    """Ask the gateway about submitted recipients that have no final status yet."""
    result = polling.poll_delivery_status(min_age)
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
    return balance.refresh_balance().points


@shared_task(ignore_result=True)
def sweep() -> dict[str, Any]:
    """Expire dead claims, re-enqueue lost dispatches, move due scheduled messages on."""
    result = sweeper.sweep()
    return {
        "expired_batches": result.expired_batches,
        "reenqueued": result.reenqueued,
        "settled": result.settled,
        "now_submitted": result.now_submitted,
        "reports_applied": result.reports_applied,
    }

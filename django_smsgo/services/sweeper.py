"""The periodic sweep: nothing stays claimed, queued or scheduled forever.

* A batch whose claim lease expired (its worker died between claim and
  record) becomes ``uncertain`` with its recipients: the request may have
  left, so it is never queued again.
* A message still queued or sending whose dispatch is overdue by
  ``ENQUEUE_SWEEP_AGE`` seconds (its enqueue was lost, e.g. the broker was down
  at commit) and that still has unclaimed recipients is enqueued again.
* A message left ``sending`` with nothing to claim (its worker died after
  the last batch) is settled from its recipients.
* A scheduled message whose time has come becomes ``submitted``.
* Reports that arrived before their batch was recorded are applied.
* The recipient tallies of the messages in flight are folded where they
  piled up (:func:`~django_smsgo.services.tallies.fold_active`).

In inline mode (no Celery task waits with an ETA for a retry)
:func:`redispatch_due_retries` dispatches the messages whose retry has come
due; ``manage.py smsgo_jobs`` runs it with every sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services import dispatching, tallies
from django_smsgo.services.reports import apply_all_pending_reports
from django_smsgo.services.states import batch as batch_state
from django_smsgo.services.states.message import settle

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    """What one sweep did."""

    expired_batches: list[int] = field(default_factory=list)
    reenqueued: list[int] = field(default_factory=list)
    settled: list[int] = field(default_factory=list)
    now_submitted: list[int] = field(default_factory=list)
    reports_applied: int = 0
    tallies_folded: int = 0


def sweep() -> SweepResult:
    """Run every sweep step once; safe to run concurrently and as often as wanted."""
    result = SweepResult()
    result.expired_batches = expire_leases()
    result.reenqueued = reenqueue_stale()
    result.settled = settle_stalled()
    result.now_submitted = start_due_scheduled()
    result.reports_applied = apply_all_pending_reports()
    result.tallies_folded = tallies.fold_active()
    return result


def expire_leases() -> list[int]:
    """Mark claimed batches whose lease expired, and their recipients, ``uncertain``."""
    now = timezone.now()
    expired: list[int] = []
    for batch_id, message_id in Batch.objects.lease_expired(now).values_list("pk", "message_id"):
        if not batch_state.expire_lease(batch_id, now=now):
            continue
        logger.warning("Batch %s: claim lease expired; marked uncertain.", batch_id)
        expired.append(batch_id)
        if not Batch.objects.filter(message_id=message_id).in_flight().exists():
            settle(Message.objects.get(pk=message_id))
    return expired


def reenqueue_stale() -> list[int]:
    """Enqueue dispatch again for messages whose dispatch is overdue; return their ids."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=smsgo_settings.ENQUEUE_SWEEP_AGE)
    unclaimed = Recipient.objects.filter(message_id=OuterRef("pk")).unclaimed()
    overdue = (
        Message.objects.dispatchable().filter(dispatch_due_at__lt=cutoff).filter(Exists(unclaimed))
    )
    enqueued: list[int] = []
    for message in overdue:
        if _take_turn(message, now):
            logger.warning("Message %s was waiting for dispatch; enqueued again.", message.pk)
            dispatching.enqueue(message)
            enqueued.append(message.pk)
    return enqueued


def redispatch_due_retries() -> list[int]:
    """Inline mode: dispatch again the messages whose retry is due; return their ids.

    In Celery mode the dispatch task enqueues its own retry with an ETA, so
    this does nothing there.
    """
    if dispatching.mode() != "inline":
        return []
    now = timezone.now()
    due = Message.objects.dispatchable().filter(dispatch_attempts__gt=0, dispatch_due_at__lte=now)
    redispatched: list[int] = []
    for message in due:
        if _take_turn(message, now):
            logger.info("Message %s: its retry is due; dispatching it again.", message.pk)
            dispatching.enqueue(message)
            redispatched.append(message.pk)
    return redispatched


def _take_turn(message: Message, now: datetime) -> bool:
    """Move ``dispatch_due_at`` to now, if no one else moved it since it was read.

    The conditional move makes two sweepers (or runners) enqueue a message once.
    """
    return bool(
        Message.objects.filter(pk=message.pk, dispatch_due_at=message.dispatch_due_at).update(
            dispatch_due_at=now
        )
    )


def settle_stalled() -> list[int]:
    """Settle ``sending`` messages with nothing left to claim whose dispatch stopped.

    A worker that died after recording its last batch but before settling the
    message would leave it ``sending``; its recipients tell what it is.
    """
    cutoff = timezone.now() - timedelta(seconds=smsgo_settings.ENQUEUE_SWEEP_AGE)
    unclaimed = Recipient.objects.filter(message_id=OuterRef("pk")).unclaimed()
    in_flight = Batch.objects.filter(message_id=OuterRef("pk")).in_flight()
    stalled = Message.objects.filter(
        status=Message.Status.SENDING, dispatch_due_at__lt=cutoff
    ).exclude(Exists(unclaimed) | Exists(in_flight))
    return [m.pk for m in stalled if settle(m) != Message.Status.SENDING]


def start_due_scheduled() -> list[int]:
    """Move scheduled messages whose ``send_at`` has passed on (``submitted``, or ``completed``
    when every report is in already)."""
    now = timezone.now()
    moved = []
    for message in Message.objects.filter(status=Message.Status.SCHEDULED, send_at__lte=now):
        if settle(message) != Message.Status.SCHEDULED:
            moved.append(message.pk)
    return moved

"""The message state machine: every change of ``Message.status`` goes through here.

::

    draft ──► queued ──► sending ──┬──► scheduled ──► submitted ──► completed
      │         │          │       ├──► submitted ───────────────► completed
      │         │          │       ├──► uncertain ──► submitted / completed
      │         │          │       └──► failed
      │         │          └──► cancelled (every recipient cancelled)
      └─────────┴──► cancelled            scheduled ──► cancelled (at the gateway)
                └──► failed (expired, unaffordable, refused)

The table of allowed moves is :data:`django_smsgo.models.MESSAGE_TRANSITIONS`.
A transition is a conditional ``UPDATE … WHERE status IN (allowed sources)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_smsgo.models import MESSAGE_TRANSITIONS, Message, Recipient, final_statuses
from django_smsgo.reasons import Reason
from django_smsgo.services.states import sources_of
from django_smsgo.signals import message_failed

logger = logging.getLogger(__name__)

S = Message.Status
R = Recipient.Status

#: Statuses nothing moves a message out of.
TERMINAL = final_statuses(MESSAGE_TRANSITIONS)


def transition(
    message: Message,
    target: str,
    *,
    reason: str = "",
    reason_params: Mapping[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """Move ``message`` to ``target`` if its stored status allows it.

    Returns True when the row changed. ``reason`` is a
    :class:`~django_smsgo.reasons.Reason` code, with its ``reason_params``.
    ``fields`` are saved in the same UPDATE (e.g. ``submitted_at``).
    ``message`` is refreshed from what was stored. A move to ``failed`` sends
    ``message_failed`` after commit.
    """
    values: dict[str, Any] = {"status": target, "updated_at": timezone.now(), **fields}
    if reason:
        values["reason_code"] = str(reason)
        values["reason_params"] = dict(reason_params or {})
    allowed = sources_of(MESSAGE_TRANSITIONS, target)
    changed = bool(Message.objects.filter(pk=message.pk, status__in=allowed).update(**values))
    message.refresh_from_db()
    if changed:
        logger.info("Message %s is now %s%s", message.pk, target, f" ({reason})" if reason else "")
        if target == S.FAILED:
            _announce_failure(message)
    return changed


def _announce_failure(message: Message) -> None:
    def send() -> None:
        message_failed.send(
            sender=Message,
            message=message,
            reason=message.reason_text,
            metadata=message.metadata,
            tags=list(message.tags),
        )

    transaction.on_commit(send)


def derive_status(
    counts: Mapping[str, int], *, send_at: datetime | None, now: datetime, reached: bool
) -> str | None:
    """The message status its recipients call for once dispatch has nothing left to claim.

    ``reached`` tells whether any failed recipient had been accepted by the
    gateway (it failed on the way to the phone, not at the door).
    Returns None while recipients are still queued (dispatch is not over).
    """
    if counts.get(R.QUEUED, 0):
        return None
    if counts.get(R.UNCERTAIN, 0):
        return S.UNCERTAIN
    if counts.get(R.SUBMITTED, 0):
        return S.SCHEDULED if send_at is not None and send_at > now else S.SUBMITTED
    if counts.get(R.DELIVERED, 0):
        return S.COMPLETED
    if counts.get(R.FAILED, 0):
        return S.COMPLETED if reached else S.FAILED
    return S.CANCELLED


def settle(message: Message) -> str:
    """Bring ``message.status`` in line with its recipients; return the status it has now.

    Called when dispatch, the sweeper, cancelling or polling changed
    recipients. Does nothing while recipients are still queued or when the
    message is already in a terminal status.
    """
    message.refresh_from_db()
    if message.status in TERMINAL:
        return message.status
    recipients = Recipient.objects.filter(message_id=message.pk)
    counts = recipients.status_counts()
    reached = recipients.filter(status=R.FAILED, submitted_at__isnull=False).exists()
    now = timezone.now()
    target = derive_status(counts, send_at=message.send_at, now=now, reached=reached)
    if target is None or target == message.status:
        return message.status
    fields: dict[str, Any] = {}
    if target == S.FAILED:
        fields["reason_code"], fields["reason_params"] = _first_failure_reason(message.pk)
    if target == S.COMPLETED:
        fields["completed_at"] = now
    if target in (S.SUBMITTED, S.SCHEDULED) and message.submitted_at is None:
        fields["submitted_at"] = now
    transition(message, target, **fields)
    return message.status


def _first_failure_reason(message_id: int) -> tuple[str, dict[str, Any]]:
    """The reason of the message's first failed recipient that has one (code, params)."""
    first = (
        Recipient.objects.filter(message_id=message_id, status=R.FAILED)
        .exclude(reason_code="")
        .values_list("reason_code", "reason_params")
        .first()
    )
    return first or (str(Reason.EVERY_RECIPIENT_FAILED), {})

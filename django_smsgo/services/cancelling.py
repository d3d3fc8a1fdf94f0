"""Cancelling a message: locally before it was submitted, at the gateway while it is scheduled.

* Not submitted yet (``draft``, ``queued``; or the unclaimed part of a
  message being sent): its recipients are cancelled here, nothing is sent.
* Submitted with a ``send_at`` still in the future: ``sendsms_cancel.asp`` for
  each of its msgids. The gateway may refuse one msgid and accept another:
  the outcome is reported per batch and per recipient, and only what the
  gateway accepted is marked cancelled (its points are refunded).
* Submitted and due (or sent without a schedule): refused with
  ``MessageNotCancellable``; an SMS that has left cannot be called back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from django_smsgo.backends import BaseBackend, get_backend
from django_smsgo.exceptions import GatewayError, TransportError
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.reasons import Reason
from django_smsgo.services.errors import MessageNotCancellable
from django_smsgo.services.states import batch as batch_state
from django_smsgo.services.states import recipient as recipient_state
from django_smsgo.services.states.message import TERMINAL, settle, transition

logger = logging.getLogger(__name__)

S = Message.Status


def can_cancel(message: Message, *, now: datetime | None = None) -> bool:
    """Whether :func:`cancel_message` can cancel something of ``message`` now.

    A message not sent yet (a draft, queued, the unclaimed rest of one being
    sent), or scheduled at the gateway for a time still to come. The admin and
    the API offer cancelling by this rule.
    """
    if message.status in (S.DRAFT, S.QUEUED, S.SENDING):
        return True
    now = now or timezone.now()
    return message.status == S.SCHEDULED and message.send_at is not None and message.send_at > now


@dataclass
class BatchCancel:
    """The gateway's answer for one msgid."""

    batch_id: int
    msgid: str
    cancelled: bool
    statuscode: int | None
    statusstr: str
    phones: list[str]


@dataclass
class CancelOutcome:
    """What a cancel did: per batch, and per recipient phone (``cancelled`` or the refusal)."""

    message_id: int
    status: str = ""
    cancelled_locally: int = 0
    batches: list[BatchCancel] = field(default_factory=list)
    recipients: dict[str, str] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """True when the gateway refused some msgids and accepted others."""
        outcomes = {b.cancelled for b in self.batches}
        return outcomes == {True, False}

    @property
    def refused(self) -> list[BatchCancel]:
        return [b for b in self.batches if not b.cancelled]


def cancel_message(message: Message, *, backend: BaseBackend | None = None) -> CancelOutcome:
    """Cancel ``message``; raise ``MessageNotCancellable`` when its time has come.

    Returns a :class:`CancelOutcome` with the gateway's answer for each msgid
    (a partial cancel is reported, not raised).
    """
    message.refresh_from_db()
    outcome = CancelOutcome(message_id=message.pk)
    if message.status in TERMINAL:
        raise MessageNotCancellable(
            f"Message {message.pk} is {message.status}: there is nothing left to cancel."
        )
    submitted = Batch.objects.filter(message=message, state=Batch.State.SUBMITTED).exclude(msgid="")
    now = timezone.now()
    if submitted.exists() and (message.send_at is None or message.send_at <= now):
        when = (
            f"its time came at {timezone.localtime(message.send_at):%Y-%m-%d %H:%M:%S}"
            if message.send_at
            else "it was sent without a schedule"
        )
        raise MessageNotCancellable(
            f"Message {message.pk} cannot be cancelled: {when} and the gateway has it."
        )
    if Batch.objects.filter(message=message).in_flight().exists():
        logger.warning(
            "Message %s is being sent right now; only what is not claimed yet can be cancelled.",
            message.pk,
        )
    outcome.cancelled_locally = recipient_state.cancel_unclaimed(message, now=now)
    for batch in submitted:
        outcome.batches.append(_cancel_batch(message, batch, backend or get_backend()))
    for entry in outcome.batches:
        for phone in entry.phones:
            outcome.recipients[phone] = (
                "cancelled"
                if entry.cancelled
                else f"not cancelled: {entry.statusstr or 'no answer'} (code {entry.statuscode})"
            )
    outcome.status = _settle_after_cancel(message)
    return outcome


def _cancel_batch(message: Message, batch: Batch, backend: BaseBackend) -> BatchCancel:
    phones = list(batch.recipients.values_list("phone", flat=True))
    try:
        answer = backend.cancel(batch.msgid)
    except (GatewayError, TransportError) as exc:
        code = getattr(exc, "code", None)
        logger.warning("Cancel of msgid %s failed: %s", batch.msgid, exc)
        return BatchCancel(batch.pk, batch.msgid, False, code, str(exc), phones)
    if answer.cancelled:
        batch_state.cancelled_at_gateway(batch, now=timezone.now())
    return BatchCancel(
        batch.pk, batch.msgid, answer.cancelled, answer.statuscode, answer.statusstr, phones
    )


def _settle_after_cancel(message: Message) -> str:
    message.refresh_from_db()
    if message.status in (S.DRAFT, S.QUEUED):
        open_left = Recipient.objects.filter(
            message=message, status__in=(Recipient.Status.QUEUED, Recipient.Status.SUBMITTED)
        ).exists()
        if not open_left:
            transition(message, Message.Status.CANCELLED, reason=Reason.CANCELLED)
            return message.status
    return settle(message)

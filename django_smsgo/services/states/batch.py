"""The batch state machine: claiming recipients for one request, and recording what became of it.

::

    claimed ──accepted──► submitted ──cancelled at the gateway──► cancelled
       │
       ├──refused, or surely not sent──► failed (recipients failed, or released for a retry)
       └──perhaps sent, or lease expired──► uncertain ──a late answer or a report──► submitted

The table of allowed moves is :data:`django_smsgo.models.BATCH_TRANSITIONS`.
Each function moves a batch and its recipients in one transaction, and only
while the batch is in a state the move is allowed from: a worker whose lease
ran out, a redelivered task or a second sweeper changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import F, Q, QuerySet

from django_smsgo.client import SendResult
from django_smsgo.client.numbers import MAX_NUMBERS_PER_REQUEST
from django_smsgo.conf import smsgo_settings
from django_smsgo.models import BATCH_TRANSITIONS, Batch, Message, Recipient
from django_smsgo.reasons import Cause, Reason, cause
from django_smsgo.services import locks
from django_smsgo.services.states import batch_statements, recipient, sources_of

logger = logging.getLogger(__name__)

B = Batch.State
R = Recipient.Status

#: What a batch whose claim lease ran out is: perhaps sent.
LEASE_EXPIRED = {"cause": cause(Cause.LEASE_EXPIRED)}


@dataclass(frozen=True)
class Claim:
    """A claimed batch, the numbers its request carries and their recipients, read in the claim."""

    batch: Batch
    numbers: tuple[str, ...]
    recipient_ids: tuple[int, ...] = ()

    @property
    def last_id(self) -> int:
        """The highest recipient id claimed: the next claim of the same run starts above it."""
        return max(self.recipient_ids, default=0)


class Submitted(NamedTuple):
    """What :func:`submit` did: ``recorded`` the answer; ``reports_wait``: apply pending ones."""

    recorded: bool
    reports_wait: bool


def claim(
    message: Message,
    *,
    lease: timedelta,
    now: datetime,
    size: int = MAX_NUMBERS_PER_REQUEST,
    after: int = 0,
) -> Claim | None:
    """Claim up to ``size`` unclaimed recipients of ``message`` as a new batch (None: none left).

    ``after``: only recipients with a higher id (where the run's last claim
    ended). Candidates are read with ``SELECT … FOR UPDATE SKIP LOCKED`` where
    the database has it, and taken by a conditional ``UPDATE … WHERE batch IS
    NULL AND status = 'queued'``: only the rows that UPDATE changed belong to
    the batch, so two workers can never claim the same recipient, even where
    ``select_for_update`` does nothing (SQLite). The batch holds distinct
    numbers only (under ``OVERRIDE_RECIPIENTS`` several recipients share one,
    and the gateway must not get a number twice in one request). On
    PostgreSQL this is one statement (:mod:`.batch_statements`).
    """
    if batch_statements.supported() and not smsgo_settings.OVERRIDE_RECIPIENTS:
        return _claim_in_one_statement(message, lease=lease, now=now, size=size, after=after)
    while True:
        with locks.writing():
            candidates = Recipient.objects.filter(message_id=message.pk).unclaimed().order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            rows = list(candidates.filter(pk__gt=after).values_list("pk", "phone")[:size])
            if not rows:
                return None
            first = _first_per_number(rows)
            batch = Batch.objects.create(
                message=message, state=B.CLAIMED, lease_expires_at=now + lease
            )
            taken = Recipient.objects.filter(pk__in=first).unclaimed().update(batch=batch)
            if taken == len(first):
                return Claim(batch, tuple(first.values()), tuple(first))
            if taken:
                # Another worker took some of them between our read and our update.
                mine = list(batch.recipients.order_by("pk").values_list("pk", "phone"))
                return Claim(batch, tuple(p for _, p in mine), tuple(pk for pk, _ in mine))
            batch.delete()


def _claim_in_one_statement(
    message: Message, *, lease: timedelta, now: datetime, size: int, after: int
) -> Claim | None:
    claimed = batch_statements.claim(
        message.pk, after=after, size=size, now=now, lease_expires_at=now + lease
    )
    if claimed is None:
        return None
    batch_id, rows = claimed
    batch = Batch(
        pk=batch_id,
        message_id=message.pk,
        state=B.CLAIMED,
        claimed_at=now,
        lease_expires_at=now + lease,
    )
    batch._state.adding = False
    batch._state.db = connection.alias
    return Claim(batch, tuple(phone for _, phone in rows), tuple(pk for pk, _ in rows))


def _first_per_number(rows: list[tuple[int, str]]) -> dict[int, str]:
    """The first recipient of each number: one request must not carry a number twice."""
    first: dict[str, int] = {}
    for pk, phone in rows:
        first.setdefault(phone, pk)
    return {pk: phone for phone, pk in first.items()}


def submit(
    batch: Batch,
    answer: SendResult,
    *,
    now: datetime,
    recipient_ids: tuple[int, ...] = (),
) -> Submitted:
    """Record an accepted request: msgid and points stored, recipients ``submitted``.

    Also from ``uncertain`` (a late answer). Not ``recorded`` when the batch
    had moved on (e.g. cancelled meanwhile): nothing is changed then. With the
    batch's ``recipient_ids`` (from its claim), PostgreSQL records it in one
    statement and says whether reports came before the answer.
    """
    if recipient_ids and batch_statements.supported():
        recorded, reports_wait = batch_statements.submit(batch.pk, recipient_ids, answer, now=now)
        if not recorded:
            return Submitted(recorded=False, reports_wait=False)
        batch.state, batch.msgid, batch.points = B.SUBMITTED, answer.msgid, answer.points
        batch.submitted_at = now
        return Submitted(recorded=True, reports_wait=reports_wait)
    with locks.writing():
        changed = Batch.objects.filter(
            Q(pk=batch.pk)
            & (
                Q(state__in=sources_of(BATCH_TRANSITIONS, B.SUBMITTED))
                | Q(state=B.SUBMITTED, msgid=answer.msgid)
            )
        ).update(
            state=B.SUBMITTED,
            msgid=answer.msgid,
            points=answer.points,
            api_url=answer.api_url,
            statuscode=answer.statuscode,
            statusstr=answer.statusstr[:200],
            submitted_at=now,
            reason_code="",
            reason_params={},
        )
        if not changed:
            return Submitted(recorded=False, reports_wait=False)
        recipient.move(
            Recipient.objects.filter(batch=batch),
            R.SUBMITTED,
            sources=[R.QUEUED, R.UNCERTAIN],
            submitted_at=now,
            gateway_statuscode=answer.statuscode,
            updated_at=now,
        )
        # dispatch_due_at doubles as a heartbeat: the sweeper leaves a message
        # alone while its dispatch keeps recording answers.
        Message.objects.filter(pk=batch.message_id).update(
            points_charged=F("points_charged") + (answer.points or 0),
            dispatch_due_at=now,
            updated_at=now,
        )
        Message.objects.filter(pk=batch.message_id, submitted_at__isnull=True).update(
            submitted_at=now
        )
    batch.refresh_from_db()
    return Submitted(recorded=True, reports_wait=True)  # not looked for here: the caller looks


def refuse(
    batch: Batch,
    *,
    statuscode: int | None,
    statusstr: str,
    reason: str,
    reason_params: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Fail the batch and its recipients: the gateway (or our checks) refused it, nothing sent."""
    with locks.writing():
        changed = Batch.objects.filter(
            pk=batch.pk, state__in=sources_of(BATCH_TRANSITIONS, B.FAILED)
        ).update(
            state=B.FAILED,
            statuscode=statuscode,
            statusstr=statusstr[:200],
            reason_code=reason,
            reason_params=dict(reason_params),
        )
        recipient.move(
            Recipient.objects.filter(batch=batch),
            R.FAILED,
            sources=[R.QUEUED, R.UNCERTAIN],
            reason=reason,
            reason_params=reason_params,
            gateway_statuscode=statuscode,
            final_at=now,
        )
    return bool(changed)


def release(batch: Batch, failure: Mapping[str, Any], *, final: bool, now: datetime) -> bool:
    """The request surely did not reach the gateway: give its recipients back, or fail them.

    Released recipients are queued again for the retry; that is safe only
    because nothing was sent. With ``final`` they fail instead. Returns False
    when the batch is no longer claimed (the sweeper declared it uncertain
    because our lease ran out): it is left alone then.
    """
    params = {"cause": dict(failure)}
    with locks.writing():
        owned = Batch.objects.filter(pk=batch.pk, state=B.CLAIMED).update(
            state=B.FAILED,
            reason_code=Reason.NOT_SENT if final else Reason.RELEASED,
            reason_params=params,
        )
        if not owned:
            return False
        rows = Recipient.objects.filter(batch=batch, status=R.QUEUED)
        if final:
            recipient.move(
                rows,
                R.FAILED,
                sources=[R.QUEUED],
                reason=Reason.NOT_SENT,
                reason_params=params,
                final_at=now,
            )
        else:
            # Not a change of status: the recipients are simply unclaimed again.
            rows.update(batch=None, updated_at=now)
    return True


def mark_uncertain(batch: Batch, failure: Mapping[str, Any], *, now: datetime) -> bool:
    """The request may have reached the gateway: batch and recipients ``uncertain``, for good."""
    claimed = Batch.objects.filter(pk=batch.pk).in_flight()
    return _perhaps_sent(batch.pk, claimed, {"cause": dict(failure)}, now=now)


def expire_lease(batch_id: int, *, now: datetime) -> bool:
    """Mark a claimed batch whose lease ran out before ``now`` (and its recipients) uncertain."""
    expired = Batch.objects.filter(pk=batch_id).lease_expired(now)
    return _perhaps_sent(batch_id, expired, LEASE_EXPIRED, now=now)


def _perhaps_sent(
    batch_id: int, claimed: QuerySet[Batch], params: Mapping[str, Any], *, now: datetime
) -> bool:
    """Batch ``batch_id`` and its recipients uncertain, if it is still in ``claimed``."""
    with locks.writing():
        owned = claimed.update(
            state=B.UNCERTAIN, reason_code=Reason.PERHAPS_SENT, reason_params=dict(params)
        )
        if owned:
            recipient.move(
                Recipient.objects.filter(batch_id=batch_id),
                R.UNCERTAIN,
                sources=[R.QUEUED],
                reason=Reason.PERHAPS_SENT,
                reason_params=params,
                updated_at=now,
            )
    return bool(owned)


def cancelled_at_gateway(batch: Batch, *, now: datetime) -> bool:
    """The gateway cancelled a scheduled batch: recipients cancelled, its points refunded."""
    with locks.writing():
        changed = Batch.objects.filter(pk=batch.pk, state=B.SUBMITTED).update(
            state=B.CANCELLED, reason_code=Reason.CANCELLED_AT_GATEWAY, reason_params={}
        )
        if not changed:
            return False
        recipient.move(
            Recipient.objects.filter(batch=batch),
            R.CANCELLED,
            sources=[R.SUBMITTED, R.QUEUED],
            reason=Reason.CANCELLED_AT_GATEWAY,
            final_at=now,
        )
        Message.objects.filter(pk=batch.message_id).update(
            points_charged=F("points_charged") - (batch.points or 0)
        )
    return True


def adopt_msgid(batch: Batch, msgid: str, *, now: datetime) -> None:
    """Store the msgid a report proves on a batch whose answer was lost (caller's transaction).

    An ``uncertain`` batch is ``submitted`` from then on: the gateway has it.
    """
    Batch.objects.filter(pk=batch.pk, msgid="").update(msgid=msgid)
    if batch.state == B.UNCERTAIN:
        Batch.objects.filter(pk=batch.pk, state=B.UNCERTAIN).update(
            state=B.SUBMITTED, submitted_at=now
        )
        batch.state = B.SUBMITTED
    batch.msgid = msgid

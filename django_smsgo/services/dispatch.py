"""Dispatch: send a message's recipients to the gateway, 50 numbers a request, none twice.

Each request follows three steps, and only the middle one talks to the gateway:

1. **claim** (a short transaction): up to 50 queued recipients without a batch
   are picked (``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it)
   and attached to a new ``Batch`` in state ``claimed`` with a lease, by a
   conditional ``UPDATE … WHERE batch IS NULL AND status = 'queued'``: only the
   rows that UPDATE changed belong to the batch, so two workers, a retried task
   or a redelivered Celery message can never claim the same recipient twice,
   even where ``select_for_update`` does nothing (SQLite);
2. **send**, outside any transaction;
3. **record** the answer (a transaction, conditional on the batch still being
   ``claimed`` or ``uncertain``):

   * accepted: batch and recipients ``submitted``, pending reports applied;
   * surely not sent (connect failure, the gateway's ``-10`` after failover):
     the claim is released (we *know* nothing was sent) and the task retried
     with backoff; on the last attempt the recipients fail;
   * refused (``-1``, ``-2``, ``-5``, ``-7``, ``-8``, ``-9``…): batch and
     recipients ``failed`` with the code and text; an account-level refusal
     (``-2``, ``-3``, ``-6``, ``-8``) fails the whole message;
   * unknown outcome (read timeout, dropped answer, HTTP 5xx, unparsable
     answer): batch and recipients ``uncertain``, never sent again
     automatically; a later report or query settles them.

A worker that dies between 1 and 3 leaves a claimed batch whose lease expires;
the sweeper marks it ``uncertain``, never ``queued`` again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from django_smsgo.backends import BaseBackend, SendRequest, get_backend
from django_smsgo.client import SendResult
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import (
    GatewayError,
    SmsgoValidationError,
    TransportError,
)
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.reasons import Reason, cause_of
from django_smsgo.services import balance
from django_smsgo.services.callback_urls import reply_url, report_url
from django_smsgo.services.reports import apply_pending_reports
from django_smsgo.services.states import settle, transition
from django_smsgo.signals import message_submitted

logger = logging.getLogger(__name__)

#: The gateway's limit on numbers per send request.
BATCH_SIZE = 50

#: Gateway codes that concern the account, not the batch: the whole message fails.
ACCOUNT_LEVEL_CODES = frozenset({-2, -3, -6, -8})

DISPATCHABLE = (Message.Status.QUEUED, Message.Status.SENDING)


class BatchOutcome(StrEnum):
    SUBMITTED = "submitted"
    FAILED = "failed"  # refused for this batch; go on with the next one
    ACCOUNT_FAILED = "account_failed"  # refused for the whole account: stop
    RELEASED = "released"  # surely not sent: try again later
    UNCERTAIN = "uncertain"  # perhaps sent: never again; stop and try the rest later


@dataclass
class DispatchResult:
    """What one dispatch run did. ``retry`` asks the caller to run it again later."""

    message_id: int
    submitted: int = 0
    failed: int = 0
    uncertain: int = 0
    retry: bool = False
    reason: str = ""
    status: str = ""


def dispatch_message(
    message_id: int, *, final_attempt: bool = False, backend: BaseBackend | None = None
) -> DispatchResult:
    """Send every queued recipient of the message, in claimed batches of at most 50.

    Safe to run any number of times, concurrently too: each recipient is sent
    at most once. Returns ``retry=True`` when a request surely failed to reach
    the gateway (or its outcome is unknown) and queued recipients remain, so
    the caller should run it again after a backoff; with ``final_attempt=True``
    those recipients fail instead.
    """
    result = DispatchResult(message_id=message_id)
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.status not in DISPATCHABLE:
        # Done already, cancelled, or a redelivered task: nothing to do.
        result.status = message.status if message else ""
        return result
    backend = backend or get_backend()
    if message.status == Message.Status.QUEUED:
        try:
            go_on = _first_request_checks(message, backend)
        except (GatewayError, TransportError) as exc:
            # The balance could not be asked; nothing was sent: try again later.
            logger.warning("Balance check before message %s failed: %s", message.pk, exc)
            result.retry, result.reason, result.status = True, str(exc), message.status
            return result
        if not go_on:
            result.status = message.status
            return result
    transition(message, Message.Status.SENDING)
    while True:
        if _expire_if_due(message):
            break
        batch = claim_batch(message)
        if batch is None:
            break
        outcome = send_batch(message, batch, backend, final_attempt=final_attempt)
        if outcome == BatchOutcome.SUBMITTED:
            result.submitted += 1
            continue
        if outcome == BatchOutcome.FAILED:
            result.failed += 1
            continue
        if outcome == BatchOutcome.UNCERTAIN:
            result.uncertain += 1
        if outcome == BatchOutcome.ACCOUNT_FAILED:
            result.failed += 1
            break
        # Released or uncertain: the gateway is unwell. The recipients still
        # queued were never sent; they wait for the retry.
        batch.refresh_from_db()
        result.reason = batch.reason_text
        if final_attempt:
            fail_unclaimed(message, Reason.NOT_SENT, {"cause": batch.reason_params.get("cause")})
        else:
            result.retry = has_unclaimed(message)
        break
    result.status = settle(message)
    return result


def _first_request_checks(message: Message, backend: BaseBackend) -> bool:
    """Expiry and affordability, before the message's first request; False: message settled."""
    if _expire_if_due(message):
        settle(message)
        return False
    known = balance.latest_balance()
    if known is not None and message.estimated_points > known.points:
        # The snapshot may be old: ask once (a balance query sends nothing).
        fresh = balance.refresh_balance(backend=backend)
        if message.estimated_points > fresh.points:
            params: dict[str, object] = {
                "needed": message.estimated_points,
                "balance": fresh.points,
            }
            fail_unclaimed(message, Reason.NOT_ENOUGH_POINTS, params)
            transition(
                message,
                Message.Status.FAILED,
                reason=Reason.NOT_ENOUGH_POINTS,
                reason_params=params,
            )
            return False
    return True


def _expire_if_due(message: Message) -> bool:
    """Fail the unclaimed recipients of a message whose ``expires_at`` has passed."""
    if message.expires_at is None or message.expires_at > timezone.now():
        return False
    when = message.expires_at.isoformat(timespec="seconds")
    expired = fail_unclaimed(message, Reason.EXPIRED, {"when": when})
    if expired:
        logger.info("Message %s expired; %s recipient(s) not sent.", message.pk, expired)
    return True


def claim_batch(message: Message, *, size: int = BATCH_SIZE) -> Batch | None:
    """Claim up to ``size`` queued recipients of ``message`` as a new batch; None when none is left.

    The batch holds distinct numbers only (under ``OVERRIDE_RECIPIENTS`` several
    recipients share a number, and the gateway must not get it twice in one
    request).
    """
    lease = timedelta(seconds=smsgo_settings.CLAIM_LEASE)
    while True:
        with transaction.atomic():
            candidates = Recipient.objects.filter(
                message_id=message.pk, status=Recipient.Status.QUEUED, batch__isnull=True
            ).order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            rows = list(candidates.values_list("pk", "phone")[:size])
            if not rows:
                return None
            ids = _first_per_number(rows)
            batch = Batch.objects.create(
                message=message,
                state=Batch.State.CLAIMED,
                lease_expires_at=timezone.now() + lease,
            )
            taken = Recipient.objects.filter(
                pk__in=ids, batch__isnull=True, status=Recipient.Status.QUEUED
            ).update(batch=batch)
            if taken:
                return batch
            # Another worker took them between our read and our update.
            batch.delete()


def _first_per_number(rows: list[tuple[int, str]]) -> list[int]:
    """The first recipient of each number: one request must not carry a number twice."""
    first: dict[str, int] = {}
    for pk, phone in rows:
        first.setdefault(phone, pk)
    return list(first.values())


def send_batch(
    message: Message, batch: Batch, backend: BaseBackend, *, final_attempt: bool = False
) -> BatchOutcome:
    """Send one claimed batch and record what the gateway said."""
    numbers = list(batch.recipients.order_by("pk").values_list("phone", flat=True))
    now = timezone.now()
    request = SendRequest(
        numbers=numbers,
        body=message.body,
        encoding=message.encoding,
        dlvtime=message.send_at if message.send_at and message.send_at > now else None,
        wapurl=message.wap_url or None,
        replyurl=reply_url(batch) if message.reply else None,
        replydays=message.reply_days if message.reply else None,
        response=report_url(batch),
        batch_id=batch.pk,
        message_id=message.pk,
    )
    try:
        answer = backend.send(request)
    except SmsgoValidationError as exc:
        # Refused by our own checks before any request: nothing sent.
        return record_refusal(
            message, batch, None, Reason.NOT_SENT, {"cause": cause_of(exc)}, account_level=False
        )
    except GatewayError as exc:
        if not exc.permanent:
            return release_or_fail(message, batch, cause_of(exc), final_attempt=final_attempt)
        return record_refusal(
            message,
            batch,
            exc,
            Reason.REFUSED,
            {"code": exc.code, "text": exc.gateway_text},
            account_level=exc.code in ACCOUNT_LEVEL_CODES,
        )
    except TransportError as exc:
        if not exc.may_have_reached_gateway:
            return release_or_fail(message, batch, cause_of(exc), final_attempt=final_attempt)
        return record_uncertain(batch, cause_of(exc))
    except Exception as exc:
        # Anything unexpected after the request may have left: perhaps sent.
        logger.exception("Unexpected error while sending batch %s", batch.pk)
        record_uncertain(batch, cause_of(exc))
        raise
    return record_submitted(message, batch, answer)


def record_submitted(message: Message, batch: Batch, answer: SendResult) -> BatchOutcome:
    """Store the accepted request: msgid, points, recipients ``submitted``."""
    now = timezone.now()
    with transaction.atomic():
        changed = Batch.objects.filter(
            Q(pk=batch.pk)
            & (
                Q(state__in=(Batch.State.CLAIMED, Batch.State.UNCERTAIN))
                | Q(state=Batch.State.SUBMITTED, msgid=answer.msgid)
            )
        ).update(
            state=Batch.State.SUBMITTED,
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
            logger.warning(
                "Batch %s was accepted (msgid %s) but is no longer claimed; answer not applied.",
                batch.pk,
                answer.msgid,
            )
            return BatchOutcome.SUBMITTED
        Recipient.objects.filter(
            batch=batch, status__in=(Recipient.Status.QUEUED, Recipient.Status.UNCERTAIN)
        ).update(
            status=Recipient.Status.SUBMITTED,
            submitted_at=now,
            gateway_statuscode=answer.statuscode,
            reason_code="",
            reason_params={},
            updated_at=now,
        )
        # dispatch_due_at doubles as a heartbeat: the sweeper leaves a message
        # alone while its dispatch keeps recording answers.
        Message.objects.filter(pk=message.pk).update(
            points_charged=F("points_charged") + (answer.points or 0),
            dispatch_due_at=now,
            updated_at=now,
        )
        Message.objects.filter(pk=message.pk, submitted_at__isnull=True).update(submitted_at=now)
        batch.refresh_from_db()

        def announce() -> None:
            message_submitted.send(sender=Message, message=message, batch=batch)

        transaction.on_commit(announce)
    apply_pending_reports(batch)
    return BatchOutcome.SUBMITTED


def record_refusal(
    message: Message,
    batch: Batch,
    exc: GatewayError | None,
    reason: str,
    params: dict[str, object],
    *,
    account_level: bool,
) -> BatchOutcome:
    """Fail the batch (and for an account-level code the whole message): nothing was sent."""
    now = timezone.now()
    code = exc.code if exc is not None else None
    with transaction.atomic():
        Batch.objects.filter(
            pk=batch.pk, state__in=(Batch.State.CLAIMED, Batch.State.UNCERTAIN)
        ).update(
            state=Batch.State.FAILED,
            statuscode=code,
            statusstr=(exc.gateway_text if exc is not None else "")[:200],
            reason_code=reason,
            reason_params=params,
        )
        Recipient.objects.filter(
            batch=batch, status__in=(Recipient.Status.QUEUED, Recipient.Status.UNCERTAIN)
        ).update(
            status=Recipient.Status.FAILED,
            gateway_statuscode=code,
            reason_code=reason,
            reason_params=params,
            final_at=now,
            updated_at=now,
        )
        if account_level:
            fail_unclaimed(message, reason, params)
            transition(message, Message.Status.FAILED, reason=reason, reason_params=params)
    logger.warning("Batch %s of message %s refused: %s %s", batch.pk, message.pk, reason, params)
    return BatchOutcome.ACCOUNT_FAILED if account_level else BatchOutcome.FAILED


def release_or_fail(
    message: Message, batch: Batch, cause: dict[str, object], *, final_attempt: bool
) -> BatchOutcome:
    """The request surely did not reach the gateway: give the recipients back, or fail them.

    Released recipients are queued again for the retry; that is safe only
    because nothing was sent. A batch the sweeper already declared uncertain
    (our lease ran out) is left alone.
    """
    now = timezone.now()
    with transaction.atomic():
        owned = Batch.objects.filter(pk=batch.pk, state=Batch.State.CLAIMED).update(
            state=Batch.State.FAILED,
            reason_code=Reason.NOT_SENT if final_attempt else Reason.RELEASED,
            reason_params={"cause": cause},
        )
        if not owned:
            return BatchOutcome.UNCERTAIN
        recipients = Recipient.objects.filter(batch=batch, status=Recipient.Status.QUEUED)
        if final_attempt:
            recipients.update(
                status=Recipient.Status.FAILED,
                reason_code=Reason.NOT_SENT,
                reason_params={"cause": cause},
                final_at=now,
                updated_at=now,
            )
        else:
            recipients.update(batch=None, updated_at=now)
    logger.warning("Batch %s of message %s not sent: %s", batch.pk, message.pk, cause)
    return BatchOutcome.RELEASED


def record_uncertain(batch: Batch, cause: dict[str, object]) -> BatchOutcome:
    """The request may have reached the gateway: its recipients are ``uncertain``, never re-sent."""
    now = timezone.now()
    params = {"cause": cause}
    with transaction.atomic():
        owned = Batch.objects.filter(pk=batch.pk, state=Batch.State.CLAIMED).update(
            state=Batch.State.UNCERTAIN, reason_code=Reason.PERHAPS_SENT, reason_params=params
        )
        if owned:
            Recipient.objects.filter(batch=batch, status=Recipient.Status.QUEUED).update(
                status=Recipient.Status.UNCERTAIN,
                reason_code=Reason.PERHAPS_SENT,
                reason_params=params,
                updated_at=now,
            )
    logger.warning("Batch %s: outcome unknown %s; it will not be sent again.", batch.pk, cause)
    return BatchOutcome.UNCERTAIN


def fail_unclaimed(message: Message, reason: str, params: dict[str, object]) -> int:
    """Fail the message's recipients that no batch has claimed; return how many."""
    now = timezone.now()
    return Recipient.objects.filter(
        message_id=message.pk, status=Recipient.Status.QUEUED, batch__isnull=True
    ).update(
        status=Recipient.Status.FAILED,
        reason_code=reason,
        reason_params=params,
        final_at=now,
        updated_at=now,
    )


def has_unclaimed(message: Message) -> bool:
    """Whether recipients of the message still wait to be claimed."""
    return Recipient.objects.filter(
        message_id=message.pk, status=Recipient.Status.QUEUED, batch__isnull=True
    ).exists()

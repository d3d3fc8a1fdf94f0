"""Dispatch: send a message's recipients to the gateway, 50 numbers a request, none twice.

Each request follows three steps, and only the middle one talks to the gateway:

1. **claim** (:func:`~django_smsgo.services.states.batch.claim`): up to 50
   unclaimed recipients become a ``Batch`` in state ``claimed``, with a lease,
   and the numbers the request carries are read in the same transaction;
2. **send**, outside any transaction;
3. **record** what the gateway said, through the batch state machine:

   * accepted: batch and recipients ``submitted``, pending reports applied;
   * surely not sent (connect failure, the gateway's ``-10`` after failover):
     the claim is released (we *know* nothing was sent) and the message is
     tried again after a backoff; on the last attempt the recipients fail;
   * refused (``-1``, ``-2``, ``-5``, ``-7``, ``-8``, ``-9``…): batch and
     recipients ``failed`` with the code and text; an account-level refusal
     (``-2``, ``-3``, ``-6``, ``-8``) fails the whole message;
   * unknown outcome (read timeout, dropped answer, HTTP 5xx, unparsable
     answer): batch and recipients ``uncertain``, never sent again
     automatically; a later report or query settles them.

A worker that dies between 1 and 3 leaves a claimed batch whose lease expires;
the sweeper marks it ``uncertain``, never ``queued`` again. Anything that fails
between 1 and the request (a callback URL that cannot be built, say) releases
the claim: nothing left.

A run that ends with recipients left to try returns ``retry_at``; whoever runs
dispatch (a Celery task, or the in-process dispatcher and the sweeper) runs it
again then. The attempts are counted on the message (``dispatch_attempts``),
so the last one is the same whichever process makes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from django_smsgo.backends import BaseBackend, SendRequest, get_backend
from django_smsgo.client import SendResult
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import GatewayError, SmsgoValidationError, TransportError
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.reasons import Reason, cause_of
from django_smsgo.services import balance
from django_smsgo.services.callback_urls import reply_url, report_url
from django_smsgo.services.reports import apply_pending_reports, record_simulated
from django_smsgo.services.states import batch as batch_state
from django_smsgo.services.states import recipient as recipient_state
from django_smsgo.services.states.message import settle, transition
from django_smsgo.signals import message_submitted

logger = logging.getLogger(__name__)

#: Gateway codes that concern the account, not the batch: the whole message fails.
ACCOUNT_LEVEL_CODES = frozenset({-2, -3, -6, -8})


class BatchOutcome(StrEnum):
    SUBMITTED = "submitted"
    FAILED = "failed"  # refused for this batch; go on with the next one
    ACCOUNT_FAILED = "account_failed"  # refused for the whole account: stop
    RELEASED = "released"  # surely not sent: try again later
    UNCERTAIN = "uncertain"  # perhaps sent: never again; stop and try the rest later


@dataclass
class DispatchResult:
    """What one dispatch run did. ``retry_at``: run it again then (recipients are left)."""

    message_id: int
    submitted: int = 0
    failed: int = 0
    uncertain: int = 0
    retry_at: datetime | None = None
    reason: str = ""
    status: str = ""

    @property
    def retry(self) -> bool:
        return self.retry_at is not None


def dispatch_message(
    message_id: int, *, final_attempt: bool | None = None, backend: BaseBackend | None = None
) -> DispatchResult:
    """Send every unclaimed recipient of the message, in claimed batches of at most 50.

    Safe to run any number of times, concurrently too: each recipient is sent
    at most once. When a request surely failed to reach the gateway (or its
    outcome is unknown) and recipients remain, ``retry_at`` says when to run
    it again (``SEND_RETRY_BACKOFF`` doubled per attempt); after
    ``SEND_RETRY_MAX`` retries (or with ``final_attempt=True``) those
    recipients fail instead. A configuration error (no credentials, a
    callback URL that cannot be built) fails the message with that reason,
    logged at ERROR, and is not retried.
    """
    result = DispatchResult(message_id=message_id)
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.status not in (Message.Status.QUEUED, Message.Status.SENDING):
        # Done already, cancelled, or a redelivered task: nothing to do.
        result.status = message.status if message else ""
        return result
    if final_attempt is None:
        final_attempt = message.dispatch_attempts >= int(smsgo_settings.SEND_RETRY_MAX)
    try:
        backend = backend or get_backend()
        _send_all(message, backend, result, final_attempt=final_attempt)
    except ImproperlyConfigured as exc:
        _fail_misconfigured(message, exc)
    result.status = settle(message)
    return result


def _send_all(
    message: Message, backend: BaseBackend, result: DispatchResult, *, final_attempt: bool
) -> None:
    if message.status == Message.Status.QUEUED:
        try:
            go_on = _first_request_checks(message, backend)
        except (GatewayError, TransportError) as exc:
            # The balance could not be asked; nothing was sent: try again later.
            logger.warning("Balance check before message %s failed: %s", message.pk, exc)
            result.reason = str(exc)
            _retry_later(message, result)
            return
        if not go_on:
            return
    transition(message, Message.Status.SENDING)
    while not _expire_if_due(message):
        claim = batch_state.claim(
            message, lease=timedelta(seconds=smsgo_settings.CLAIM_LEASE), now=timezone.now()
        )
        if claim is None:
            return
        outcome = send_batch(message, claim, backend, final_attempt=final_attempt)
        if outcome == BatchOutcome.SUBMITTED:
            result.submitted += 1
            continue
        if outcome == BatchOutcome.FAILED:
            result.failed += 1
            continue
        if outcome == BatchOutcome.ACCOUNT_FAILED:
            result.failed += 1
            return
        if outcome == BatchOutcome.UNCERTAIN:
            result.uncertain += 1
        # Released or uncertain: the gateway is unwell. The recipients still
        # unclaimed were never sent; they wait for the retry.
        claim.batch.refresh_from_db()
        result.reason = claim.batch.reason_text
        if final_attempt:
            recipient_state.fail_unclaimed(
                message,
                Reason.NOT_SENT,
                {"cause": claim.batch.reason_params.get("cause")},
                now=timezone.now(),
            )
        elif Recipient.objects.filter(message_id=message.pk).unclaimed().exists():
            _retry_later(message, result)
        return


def _retry_later(message: Message, result: DispatchResult) -> None:
    """Count the attempt and say when the next one is due (also for the sweeper)."""
    attempts = message.dispatch_attempts
    delay = float(smsgo_settings.SEND_RETRY_BACKOFF) * (2**attempts)
    result.retry_at = timezone.now() + timedelta(seconds=delay)
    Message.objects.filter(pk=message.pk).update(
        dispatch_attempts=F("dispatch_attempts") + 1, dispatch_due_at=result.retry_at
    )


def _fail_misconfigured(message: Message, exc: ImproperlyConfigured) -> None:
    """A setting keeps the message from ever going out: fail what is not sent, loudly."""
    logger.error("Message %s cannot be sent: %s", message.pk, exc)
    params = {"detail": str(exc)}
    recipient_state.fail_unclaimed(message, Reason.MISCONFIGURED, params, now=timezone.now())
    transition(message, Message.Status.FAILED, reason=Reason.MISCONFIGURED, reason_params=params)


def _first_request_checks(message: Message, backend: BaseBackend) -> bool:
    """Expiry and affordability, before the message's first request; False: message settled."""
    if _expire_if_due(message):
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
            recipient_state.fail_unclaimed(
                message, Reason.NOT_ENOUGH_POINTS, params, now=timezone.now()
            )
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
    now = timezone.now()
    if message.expires_at is None or message.expires_at > now:
        return False
    when = message.expires_at.isoformat(timespec="seconds")
    expired = recipient_state.fail_unclaimed(message, Reason.EXPIRED, {"when": when}, now=now)
    if expired:
        logger.info("Message %s expired; %s recipient(s) not sent.", message.pk, expired)
    return True


def send_batch(
    message: Message,
    claim: batch_state.Claim,
    backend: BaseBackend,
    *,
    final_attempt: bool = False,
) -> BatchOutcome:
    """Send one claimed batch and record what the gateway said."""
    batch = claim.batch
    try:
        request = _request_for(message, claim)
    except Exception as exc:
        # Nothing has left: the claim goes back (or fails on the last attempt).
        batch_state.release(batch, cause_of(exc), final=final_attempt, now=timezone.now())
        raise
    try:
        answer = backend.send(request)
    except SmsgoValidationError as exc:
        # Refused by our own checks before any request: nothing sent.
        _refuse(batch, None, Reason.NOT_SENT, {"cause": cause_of(exc)})
        return BatchOutcome.FAILED
    except GatewayError as exc:
        if not exc.permanent:
            return _release(message, batch, cause_of(exc), final_attempt=final_attempt)
        params = {"code": exc.code, "text": exc.gateway_text}
        _refuse(batch, exc, Reason.REFUSED, params)
        if exc.code in ACCOUNT_LEVEL_CODES:
            now = timezone.now()
            recipient_state.fail_unclaimed(message, Reason.REFUSED, params, now=now)
            transition(message, Message.Status.FAILED, reason=Reason.REFUSED, reason_params=params)
            return BatchOutcome.ACCOUNT_FAILED
        return BatchOutcome.FAILED
    except TransportError as exc:
        if not exc.may_have_reached_gateway:
            return _release(message, batch, cause_of(exc), final_attempt=final_attempt)
        return _uncertain(batch, cause_of(exc))
    except Exception as exc:
        # Anything unexpected once the request may have left: perhaps sent.
        logger.exception("Unexpected error while sending batch %s", batch.pk)
        _uncertain(batch, cause_of(exc))
        raise
    return record_submitted(message, batch, answer, backend)


def _request_for(message: Message, claim: batch_state.Claim) -> SendRequest:
    """The send request of a claimed batch; nothing here touches the database."""
    batch = claim.batch
    now = timezone.now()
    return SendRequest(
        numbers=claim.numbers,
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


def record_submitted(
    message: Message, batch: Batch, answer: SendResult, backend: BaseBackend
) -> BatchOutcome:
    """Store the accepted request, announce it, apply reports that came before the answer."""
    if not batch_state.submit(batch, answer, now=timezone.now()):
        logger.warning(
            "Batch %s was accepted but is no longer claimed; answer not applied.", batch.pk
        )
        return BatchOutcome.SUBMITTED
    transaction.on_commit(
        lambda: message_submitted.send(sender=Message, message=message, batch=batch)
    )
    for status in backend.reports_after_send(batch.msgid):
        record_simulated(status, batch_id=batch.pk)
    apply_pending_reports(batch)
    return BatchOutcome.SUBMITTED


def _refuse(batch: Batch, exc: GatewayError | None, reason: str, params: dict[str, object]) -> None:
    batch_state.refuse(
        batch,
        statuscode=exc.code if exc is not None else None,
        statusstr=exc.gateway_text if exc is not None else "",
        reason=reason,
        reason_params=params,
        now=timezone.now(),
    )
    logger.warning(
        "Batch %s of message %s refused: %s %s", batch.pk, batch.message_id, reason, params
    )


def _release(
    message: Message, batch: Batch, failure: dict[str, object], *, final_attempt: bool
) -> BatchOutcome:
    if not batch_state.release(batch, failure, final=final_attempt, now=timezone.now()):
        # The sweeper declared it uncertain (our lease ran out): leave it so.
        return BatchOutcome.UNCERTAIN
    logger.warning("Batch %s of message %s not sent: %s", batch.pk, message.pk, failure)
    return BatchOutcome.RELEASED


def _uncertain(batch: Batch, failure: dict[str, object]) -> BatchOutcome:
    batch_state.mark_uncertain(batch, failure, now=timezone.now())
    logger.warning("Batch %s: outcome unknown %s; it will not be sent again.", batch.pk, failure)
    return BatchOutcome.UNCERTAIN

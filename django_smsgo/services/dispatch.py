"""Dispatch: send a message's recipients to the gateway, 50 numbers a request, none twice.

Each request follows three steps, and only the middle one talks to the gateway:

1. **claim** (:func:`~django_smsgo.services.states.batch.claim`): up to 50
   unclaimed recipients become a ``Batch`` in state ``claimed``, with a lease,
   and the numbers the request carries are read in the same transaction.
   Where rows lock (PostgreSQL), the next batch is claimed while the request
   before it travels, in a transaction committed just before its own request
   is written, or rolled back if the run stops first
   (:mod:`~django_smsgo.services.claim_ahead`);
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
import select
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from django_smsgo.backends import BaseBackend, SendRequest, get_backend
from django_smsgo.backends.base import PendingAnswer
from django_smsgo.client import SendResult
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import GatewayError, SmsgoValidationError, TransportError
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.reasons import Reason, cause_of
from django_smsgo.services import balance, claim_ahead, db_threads, record_behind
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


@dataclass
class _InFlight:
    """A claimed batch whose request is on its way."""

    claim: batch_state.Claim
    pending: PendingAnswer


def _send_all(
    message: Message, backend: BaseBackend, result: DispatchResult, *, final_attempt: bool
) -> None:
    """Claim, send and record batch after batch, ``DISPATCH_CONNECTIONS`` requests in flight.

    While requests travel, the answers already read are recorded and the next
    batch is claimed ahead: when an answer comes, the next request is written
    at once, and the connection and the database work side by side. A batch
    is always claimed (committed) before its request is written and recorded
    after its answer is read. Once a request surely failed or may have reached
    the gateway, no new batch is started: the batch claimed ahead is rolled
    back, the answers of those in flight are recorded and the run ends.
    """
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
    lease = timedelta(seconds=smsgo_settings.CLAIM_LEASE)
    room = max(1, int(smsgo_settings.DISPATCH_CONNECTIONS))
    in_flight: list[_InFlight] = []
    answered: list[tuple[_InFlight, SendResult | Exception]] = []
    stopped_by: tuple[Batch, BatchOutcome] | None = None  # what ended the run
    ahead = claim_ahead.ClaimAhead(check_at_once=room == 1) if claim_ahead.supported() else None
    # With several requests in flight, accepted answers are recorded beside the run.
    behind: record_behind.RecordBehind[BatchOutcome] | None = (
        record_behind.RecordBehind()
        if ahead is not None and room > 1 and db_threads.can_hand_over()
        else None
    )
    last_sent, more = 0, True  # the run's claims continue above the last batch sent

    def claim_next() -> batch_state.Claim | None:
        return batch_state.claim(message, lease=lease, now=timezone.now(), after=last_sent)

    try:
        while True:
            failing = any(isinstance(answer, Exception) for _, answer in answered)
            while more and stopped_by is None and not failing and len(in_flight) < room:
                claim = ahead.take() if ahead is not None and ahead.waiting else None
                if claim is None:
                    if _expire_if_due(message):
                        more = False
                        break
                    claim = claim_next()
                if claim is None:
                    more = False
                    break
                last_sent = claim.last_id
                started = _start(message, claim, backend, final_attempt=final_attempt)
                if isinstance(started, _InFlight):
                    in_flight.append(started)
                elif _count(result, started):
                    stopped_by = (claim.batch, started)
            if ahead is not None:
                ahead.give_back()  # not on its way now: the run is stopping
            for flight, answer in answered:
                if behind is not None and isinstance(answer, SendResult):
                    behind.record(partial(record_submitted, message, flight.claim, answer, backend))
                    continue
                outcome = _record(
                    message, flight.claim, answer, backend, final_attempt=final_attempt
                )
                if _count(result, outcome) and stopped_by is None:
                    stopped_by = (flight.claim.batch, outcome)
            answered.clear()
            if behind is not None:
                _count_recorded(result, behind.done(wait=not in_flight))
            if not in_flight:
                if more and stopped_by is None:
                    continue  # the answers recorded did not end the run: go on claiming
                break
            if ahead is not None and more and stopped_by is None:
                # Claimed while the requests travel; sent as soon as one answers.
                more = not _expire_if_due(message) and ahead.claim(claim_next) is not None
            flight = _next_answer(in_flight)
            in_flight.remove(flight)
            answered.append((flight, _read(flight.pending)))
    except Exception:
        # A database error, say: what is in flight was sent; read and record it.
        _give_back_quietly(ahead)
        _finish_quietly(behind)
        _settle_in_flight(message, in_flight, answered, backend, final_attempt=final_attempt)
        raise
    finally:
        if behind is not None:
            behind.close()
    if stopped_by is not None and stopped_by[1] != BatchOutcome.ACCOUNT_FAILED:
        _after_failure(message, stopped_by[0], result, final_attempt=final_attempt)


def _count_recorded(result: DispatchResult, outcomes: list[BatchOutcome]) -> None:
    """Count the outcomes of accepted answers recorded behind (they never end a run)."""
    for outcome in outcomes:
        _count(result, outcome)


def _finish_quietly(behind: record_behind.RecordBehind[BatchOutcome] | None) -> None:
    """Wait for the records handed over when the run fails; one that failed is logged."""
    if behind is None:
        return
    try:
        behind.done(wait=True)
    except Exception as exc:
        # Its batch stays claimed; the sweeper calls it uncertain when the lease ends.
        logger.warning("An accepted batch could not be recorded: %s", type(exc).__name__)


def _give_back_quietly(ahead: claim_ahead.ClaimAhead | None) -> None:
    """Roll back a batch claimed ahead when the run fails (the database may be gone)."""
    if ahead is None:
        return
    try:
        ahead.give_back()
    except Exception as exc:
        # Its transaction dies with the connection: nothing was claimed.
        logger.warning("The batch claimed ahead could not be rolled back: %s", type(exc).__name__)


def _settle_in_flight(
    message: Message,
    in_flight: list[_InFlight],
    answered: list[tuple[_InFlight, SendResult | Exception]],
    backend: BaseBackend,
    *,
    final_attempt: bool,
) -> None:
    """A run that fails reads the requests it has in flight and records them if it can.

    Reading gives each request's connection back to the client's pool (an
    unread one stays taken for the life of the process, and later sends fail
    with "all connections in use"). When the database connection died, the
    answers are recorded on a new one; a batch that still cannot be recorded
    keeps its claim, and the sweeper marks it uncertain when the lease ends.
    """
    pending = [*answered, *((flight, _read(flight.pending)) for flight in in_flight)]
    in_flight.clear()
    answered.clear()
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    for flight, answer in pending:
        try:
            _record(message, flight.claim, answer, backend, final_attempt=final_attempt)
        except Exception as exc:
            logger.warning(
                "Batch %s: its answer could not be recorded (%s); it stays claimed until "
                "its lease runs out.",
                flight.claim.batch.pk,
                type(exc).__name__,
            )


def _count(result: DispatchResult, outcome: BatchOutcome) -> bool:
    """Add ``outcome`` to the run's figures; True when it ends the run."""
    if outcome == BatchOutcome.SUBMITTED:
        result.submitted += 1
        return False
    if outcome == BatchOutcome.FAILED:
        result.failed += 1
        return False
    if outcome == BatchOutcome.ACCOUNT_FAILED:
        result.failed += 1
    elif outcome == BatchOutcome.UNCERTAIN:
        result.uncertain += 1
    return True


def _after_failure(
    message: Message, batch: Batch, result: DispatchResult, *, final_attempt: bool
) -> None:
    """The gateway is unwell (a batch released or uncertain): fail or keep what is left."""
    batch.refresh_from_db()
    result.reason = batch.reason_text
    if final_attempt:
        # The recipients still unclaimed were never sent: they fail with the same cause.
        recipient_state.fail_unclaimed(
            message,
            Reason.NOT_SENT,
            {"cause": batch.reason_params.get("cause")},
            now=timezone.now(),
        )
    elif Recipient.objects.filter(message_id=message.pk).unclaimed().exists():
        _retry_later(message, result)


def _next_answer(in_flight: list[_InFlight]) -> _InFlight:
    """The request whose answer comes first (a selector over their sockets)."""
    by_socket = {flight.pending.fileno(): flight for flight in in_flight}
    if -1 in by_socket or len(in_flight) == 1:
        return by_socket.get(-1, in_flight[0])
    timeout = float(smsgo_settings.READ_TIMEOUT)
    readable, _, _ = select.select(list(by_socket), [], [], timeout)
    return by_socket[readable[0]] if readable else in_flight[0]


def _read(pending: PendingAnswer) -> SendResult | Exception:
    """The answer of a request, or the error that stands for it."""
    try:
        return pending.result()
    except Exception as exc:
        return exc


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
    """Send one claimed batch, wait for its answer and record it."""
    started = _start(message, claim, backend, final_attempt=final_attempt)
    if not isinstance(started, _InFlight):
        return started
    answer = _read(started.pending)
    return _record(message, claim, answer, backend, final_attempt=final_attempt)


def _start(
    message: Message, claim: batch_state.Claim, backend: BaseBackend, *, final_attempt: bool
) -> _InFlight | BatchOutcome:
    """Write the request of a claimed batch; the outcome at once when it cannot leave."""
    batch = claim.batch
    try:
        request = _request_for(message, claim)
    except Exception as exc:
        # Nothing has left: the claim goes back (or fails on the last attempt).
        batch_state.release(batch, cause_of(exc), final=final_attempt, now=timezone.now())
        raise
    try:
        return _InFlight(claim, backend.start_send(request))
    except Exception as exc:
        return _record(message, claim, exc, backend, final_attempt=final_attempt)


def _record(
    message: Message,
    claim: batch_state.Claim,
    answer: SendResult | Exception,
    backend: BaseBackend,
    *,
    final_attempt: bool,
) -> BatchOutcome:
    """Record what the gateway said to a batch's request (or what stands for its answer)."""
    batch = claim.batch
    if isinstance(answer, SendResult):
        return record_submitted(message, claim, answer, backend)
    if isinstance(answer, SmsgoValidationError):
        # Refused by our own checks before any request: nothing sent.
        _refuse(batch, None, Reason.NOT_SENT, {"cause": cause_of(answer)})
        return BatchOutcome.FAILED
    if isinstance(answer, GatewayError):
        if not answer.permanent:
            return _release(message, batch, cause_of(answer), final_attempt=final_attempt)
        params = {"code": answer.code, "text": answer.gateway_text}
        _refuse(batch, answer, Reason.REFUSED, params)
        if answer.code in ACCOUNT_LEVEL_CODES:
            now = timezone.now()
            recipient_state.fail_unclaimed(message, Reason.REFUSED, params, now=now)
            transition(message, Message.Status.FAILED, reason=Reason.REFUSED, reason_params=params)
            return BatchOutcome.ACCOUNT_FAILED
        return BatchOutcome.FAILED
    if isinstance(answer, TransportError):
        if not answer.may_have_reached_gateway:
            return _release(message, batch, cause_of(answer), final_attempt=final_attempt)
        return _uncertain(batch, cause_of(answer))
    # Anything unexpected once the request may have left: perhaps sent.
    logger.error("Unexpected error while sending batch %s", batch.pk, exc_info=answer)
    _uncertain(batch, cause_of(answer))
    raise answer


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
    message: Message, claim: batch_state.Claim, answer: SendResult, backend: BaseBackend
) -> BatchOutcome:
    """Store the accepted request, announce it, apply reports that came before the answer."""
    batch = claim.batch
    now = timezone.now()
    submitted = batch_state.submit(batch, answer, now=now, recipient_ids=claim.recipient_ids)
    if not submitted.recorded:
        logger.warning(
            "Batch %s was accepted but is no longer claimed; answer not applied.", batch.pk
        )
        return BatchOutcome.SUBMITTED
    transaction.on_commit(
        lambda: message_submitted.send(
            sender=Message,
            message=message,
            batch=batch,
            metadata=message.metadata,
            tags=list(message.tags),
        )
    )
    for status in backend.reports_after_send(batch.msgid):
        record_simulated(status, batch_id=batch.pk)
    if submitted.reports_wait:
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

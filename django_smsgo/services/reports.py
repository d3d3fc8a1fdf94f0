"""Delivery reports: store every status observation and apply it to its recipient.

Phase-Two callbacks and status polling both end here, in
:func:`record_observation`. The rules:

* What a report does to its recipient is the table
  :data:`~django_smsgo.services.states.recipient.REPORT_RULES`: table 2's
  final states settle a recipient (``DELIVRD`` makes it ``delivered``; every
  other final state ``failed``, ``ACCEPTD`` included: read by customer
  service, it never reached the handset); anything else is a non-final state,
  stored verbatim, that moves a ``queued`` or ``uncertain`` recipient to
  ``submitted`` (a report proves the gateway took the SMS). Final is
  terminal: a later non-final report is ``stale``, the same final state again
  a ``duplicate``, a different one a ``conflict`` (logged at WARNING, kept in
  the log; the first state stays).
* A report whose recipient is not known yet (its batch is still being sent,
  or its msgid is not stored yet) is ``pending`` and applied by
  :func:`apply_pending_reports`; one that can never be matched (no number and
  several recipients, or a number not in the batch) is ``unresolved`` and left
  to polling.

Each arrival is one ``DeliveryReport`` row written in the same transaction as
the change it makes; the recipient row is locked (``SELECT … FOR UPDATE``) and
updated only while it is not final, so the same report arriving twice at the
same instant records one change and sends ``delivery_report_received`` once,
after commit.

On PostgreSQL the common report (batch id known, batch sent, one recipient)
does all of that in one statement, one round trip
(:mod:`django_smsgo.services.states.report_statement`, generated from the same
table); every other report, and every report on other databases, takes the
transaction below.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.utils import timezone

from django_smsgo.client import DeliveryStatus
from django_smsgo.client.statuses import FINAL_STATES
from django_smsgo.events import ESP_NAME, event_for_report
from django_smsgo.models import (
    MSGID_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    Batch,
    DeliveryReport,
    Message,
    Recipient,
)
from django_smsgo.services import locks
from django_smsgo.services.states import batch as batch_state
from django_smsgo.services.states import recipient as recipient_state
from django_smsgo.services.states import report_statement
from django_smsgo.services.states.message import settle
from django_smsgo.services.states.recipient import normalise_state
from django_smsgo.services.suppression import phone_variants
from django_smsgo.signals import delivery_report_received

logger = logging.getLogger(__name__)

Outcome = DeliveryReport.Outcome

_STATUS_FIELD_LENGTH = DeliveryReport._meta.get_field("statusstr").max_length or 32
_SOURCES = frozenset(DeliveryReport.Source.values)


def record_observation(
    *,
    msgid: str,
    phone: str | None,
    statuscode: int | None,
    statusstr: str,
    source: str,
    raw: Mapping[str, Any],
    batch_id: int | None = None,
) -> DeliveryReport:
    """Store one status observation and apply it, in one transaction.

    The recipient is found by (``batch_id``, ``phone``) when the batch id is
    known (callbacks carry it in their URL), else by (``msgid``, ``phone``).
    ``phone`` may be None (the gateway's documented report omits ``dstaddr``):
    a batch with one recipient is still settled. Returns the stored
    ``DeliveryReport``; its ``outcome`` says what the observation did. When
    this returns, the report is committed (unless the caller holds an outer
    transaction).
    """
    if not msgid or len(msgid) > MSGID_MAX_LENGTH:
        raise ValueError(
            f"Report msgid {msgid[:40]!r} must have 1 to {MSGID_MAX_LENGTH} characters."
        )
    if phone is not None and len(phone) > PHONE_MAX_LENGTH:
        raise ValueError(
            f"Report phone {phone[:40]!r} is longer than {PHONE_MAX_LENGTH} characters."
        )
    if source not in _SOURCES:
        raise ValueError(
            f"Unknown report source {source!r}: use one of {DeliveryReport.Source.values}."
        )
    statusstr = statusstr.strip()[:_STATUS_FIELD_LENGTH]
    if batch_id is not None and report_statement.supports(DEFAULT_DB_ALIAS):
        report = _record_in_one_statement(
            msgid=msgid,
            phone=phone,
            statuscode=statuscode,
            statusstr=statusstr,
            source=source,
            raw=raw,
            batch_id=batch_id,
        )
        if report is not None:
            return report
    with locks.writing():
        report = DeliveryReport(
            msgid=msgid,
            phone=phone or "",
            statuscode=statuscode,
            statusstr=statusstr,
            source=source,
            raw=dict(raw),
        )
        candidates = _lock_candidates(batch_id, phone) if batch_id is not None else []
        batch = candidates[0].batch if candidates else _find_batch(msgid, batch_id)
        report.batch = batch
        _resolve_and_apply(report, batch, candidates or None)
        report.save()
        _after_apply(report)
    return report


def record_simulated(status: DeliveryStatus, *, batch_id: int | None) -> DeliveryReport:
    """Record a delivery state a test backend simulated (source ``simulated``)."""
    return record_observation(
        msgid=status.msgid,
        phone=status.number,
        statuscode=status.statuscode,
        statusstr=status.statusstr,
        source=DeliveryReport.Source.SIMULATED,
        raw=status.raw,
        batch_id=batch_id,
    )


def apply_pending_reports(batch: Batch) -> int:
    """Apply the reports that arrived for ``batch`` before its recipients were known.

    Dispatch calls this right after it stores a batch's msgid; a periodic job
    may call it too (it does nothing for a batch still being sent, and a report
    is applied once however often it is called). Returns the number of reports
    that changed a recipient.
    """
    if batch.state == Batch.State.CLAIMED:
        return 0
    matches = Q(batch=batch)
    if batch.msgid:
        matches |= Q(batch__isnull=True, msgid=batch.msgid)
    applied = 0
    pending_ids = list(
        DeliveryReport.objects.filter(matches, outcome=Outcome.PENDING)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
    for report_id in pending_ids:
        with locks.writing():
            report = (
                DeliveryReport.objects.select_for_update()
                .filter(pk=report_id, outcome=Outcome.PENDING)
                .first()
            )
            if report is None:  # applied meanwhile by another caller
                continue
            locked_batch = Batch.objects.get(pk=batch.pk)
            report.batch = locked_batch
            _resolve_and_apply(report, locked_batch)
            report.save(update_fields=["batch", "recipient", "outcome"])
            _after_apply(report)
        if report.outcome == Outcome.APPLIED:
            applied += 1
    return applied


def apply_all_pending_reports() -> int:
    """Apply every pending report whose batch has left the ``claimed`` state.

    For a periodic job: catches reports whose batch was settled by a path that
    did not call :func:`apply_pending_reports`. Returns reports applied.
    """
    batch_ids = (
        DeliveryReport.objects.filter(outcome=Outcome.PENDING, batch__isnull=False)
        .exclude(batch__state=Batch.State.CLAIMED)
        .values_list("batch_id", flat=True)
        .distinct()
    )
    msgids = DeliveryReport.objects.filter(outcome=Outcome.PENDING, batch__isnull=True).values_list(
        "msgid", flat=True
    )
    by_msgid = Q(msgid__in=list(msgids)) & ~Q(msgid="")
    batches = Batch.objects.filter(Q(pk__in=list(batch_ids)) | by_msgid).exclude(
        state=Batch.State.CLAIMED
    )
    return sum(apply_pending_reports(batch) for batch in batches)


def _record_in_one_statement(
    *,
    msgid: str,
    phone: str | None,
    statuscode: int | None,
    statusstr: str,
    source: str,
    raw: Mapping[str, Any],
    batch_id: int,
) -> DeliveryReport | None:
    """The common report in one round trip on PostgreSQL; None when it needs the general path.

    Same rules and same effects as the general path (see
    :mod:`django_smsgo.services.states.report_statement` for how concurrency
    is kept safe); the message is checked after commit only when this report
    may have finished it.
    """
    recorded = report_statement.record(
        alias=DEFAULT_DB_ALIAS,
        batch_id=batch_id,
        msgid=msgid,
        phones=sorted(phone_variants(phone)) if phone is not None else None,
        phone=phone or "",
        statuscode=statuscode,
        statusstr=statusstr,
        source=source,
        raw=raw,
        now=timezone.now(),
    )
    if recorded is None:
        return None
    report = recorded.report
    if report.outcome == Outcome.CONFLICT:
        _log_conflict(
            report,
            recorded.recipient,
            normalise_state(statusstr),
            normalise_state(recorded.previous_gateway_status),
        )
    elif recorded.may_finish_message:
        _settle_message_after_commit(recorded.recipient.message_id)
    _after_apply(report)
    return report


# --- internals -------------------------------------------------------------------------------


def _lock_candidates(batch_id: int, phone: str | None) -> list[Recipient]:
    """Lock the recipients a report of batch ``batch_id`` may be about, with their batch.

    The common case in one query. A batch still being sent is left out on
    purpose, so its recipients are not locked before the batch row (dispatch
    takes them in the other order); :func:`_find_batch` deals with it.
    """
    rows = (
        Recipient.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(batch_id=batch_id)
        .exclude(batch__state=Batch.State.CLAIMED)
    )
    if phone is not None:
        rows = rows.filter(phone__in=phone_variants(phone))
    return list(rows[:2])


def _find_batch(msgid: str, batch_id: int | None) -> Batch | None:
    if batch_id is not None:
        batch = Batch.objects.filter(pk=batch_id).first()
    elif msgid:
        batch = Batch.objects.filter(msgid=msgid).order_by("-pk").first()
    else:
        batch = None
    if batch is not None and batch.state == Batch.State.CLAIMED:
        # Still being sent. Lock the row: dispatch's update storing the msgid
        # then waits for our commit and its apply_pending_reports() call sees
        # this report, or it has committed already and we see its update.
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
    return batch


def _resolve_and_apply(
    report: DeliveryReport, batch: Batch | None, candidates: list[Recipient] | None = None
) -> None:
    """Set ``report.recipient`` and ``report.outcome``, changing the recipient if due.

    ``candidates``: the batch's recipients matching the report, already locked.
    """
    if batch is None or batch.state == Batch.State.CLAIMED:
        # Unknown msgid, or the batch is still being sent: dispatch has not
        # stored what the gateway answered yet. Kept until it has.
        report.outcome = Outcome.PENDING
        return
    if batch.msgid and report.msgid and batch.msgid != report.msgid:
        logger.warning(
            "Delivery report for msgid %s names batch %s, whose msgid is %s; left unresolved.",
            report.msgid,
            batch.pk,
            batch.msgid,
        )
        report.outcome = Outcome.UNRESOLVED
        return
    if candidates is None:
        candidates = _lock_recipients(batch, report.phone or None)
    recipient = _only_recipient(batch, report.phone or None, candidates)
    if recipient is None:
        report.outcome = Outcome.UNRESOLVED
        return
    report.recipient = recipient
    if not batch.msgid and report.msgid:
        batch_state.adopt_msgid(batch, report.msgid, now=timezone.now())
    report.outcome = _apply_to_recipient(recipient, report)


def _lock_recipients(batch: Batch, phone: str | None) -> list[Recipient]:
    rows = Recipient.objects.select_for_update(of=("self",)).filter(batch=batch)
    if phone is not None:
        rows = rows.filter(phone__in=phone_variants(phone))
    return list(rows[:2])


def _only_recipient(batch: Batch, phone: str | None, found: list[Recipient]) -> Recipient | None:
    """The one recipient a report is about, or None (logged) when it is not clear."""
    if len(found) == 1:
        return found[0]
    if phone is not None:
        logger.warning(
            "Delivery report for batch %s names number %s, %s; left unresolved.",
            batch.pk,
            phone,
            "which is not in the batch" if not found else "which matches several recipients",
        )
    # No number in the report and several recipients: polling will ask the
    # gateway about each number.
    return None


def _apply_to_recipient(recipient: Recipient, report: DeliveryReport) -> str:
    was_uncertain = recipient.status == Recipient.Status.UNCERTAIN
    known = normalise_state(recipient.gateway_status)
    outcome = recipient_state.apply_report(
        recipient, statusstr=report.statusstr, statuscode=report.statuscode, now=timezone.now()
    )
    state = normalise_state(report.statusstr)
    if outcome == Outcome.CONFLICT:
        _log_conflict(report, recipient, state, known)
    elif outcome == Outcome.APPLIED and (state in FINAL_STATES or was_uncertain):
        _settle_message_after_commit(recipient.message_id, always=was_uncertain)
    return outcome


def _log_conflict(report: DeliveryReport, recipient: Recipient, state: str, known: str) -> None:
    logger.warning(
        "Conflicting final state for msgid %s number %s: %s after %s (recipient %s is %s); "
        "the first one stays.",
        report.msgid,
        recipient.phone,
        state,
        known or "none",
        recipient.pk,
        recipient.status,
    )


def _settle_message_after_commit(message_id: int, *, always: bool = False) -> None:
    """Bring the message's status in line once this change is committed.

    After commit, not before: of two reports settling a message's last two
    recipients at once, the one that commits last then sees both changes.
    Unless ``always``, only when no recipient is left open (the common case
    costs one cheap query).
    """

    def check() -> None:
        open_left = Recipient.objects.filter(message_id=message_id).open()
        if not always and open_left.exists():
            return
        message = Message.objects.filter(pk=message_id).first()
        if message is not None:
            settle(message)

    transaction.on_commit(check, robust=True)


def _after_apply(report: DeliveryReport) -> None:
    if report.outcome == Outcome.APPLIED and report.recipient is not None:
        announce(report)


def announce(report: DeliveryReport) -> None:
    """Send ``delivery_report_received`` for an applied report once it is committed."""
    recipient = report.recipient

    def send() -> None:
        if recipient is None or not delivery_report_received.has_listeners(DeliveryReport):
            return
        message = recipient.message
        delivery_report_received.send(
            sender=DeliveryReport,
            recipient=recipient,
            report=report,
            metadata=message.metadata,
            tags=list(message.tags),
            event=event_for_report(report, message),
            esp_name=ESP_NAME,
        )

    # robust: a failing receiver is logged and must not turn a stored report
    # into an unacknowledged one (the gateway would send it again).
    transaction.on_commit(send, robust=True)

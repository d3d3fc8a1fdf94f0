"""The recipient state machine: every change of ``Recipient.status`` goes through here.

::

    queued ──► submitted ──► delivered / failed / cancelled (at the gateway)
      │  │         ▲
      │  └──► uncertain ──► submitted / delivered / failed
      └──► failed / cancelled (never sent)

The table of allowed moves is :data:`django_smsgo.models.RECIPIENT_TRANSITIONS`.
Most changes concern many recipients at once (a batch, a message's unclaimed
rest): :func:`move` makes them one conditional ``UPDATE``.

What a delivery report does to a recipient is the table :data:`REPORT_RULES`,
read by :func:`decide` here and turned into SQL by
:mod:`~django_smsgo.services.states.report_statement` for PostgreSQL's
one-statement path, so the two paths cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from django_smsgo.client.statuses import DELIVERED, FINAL_STATES
from django_smsgo.models import (
    RECIPIENT_TRANSITIONS,
    DeliveryReport,
    Message,
    Recipient,
    final_statuses,
    open_statuses,
)
from django_smsgo.reasons import Reason
from django_smsgo.services import locks
from django_smsgo.services.states import check_moves, sources_of

R = Recipient.Status
Outcome = DeliveryReport.Outcome

#: Statuses a recipient may still leave / never leaves.
OPEN = frozenset(open_statuses(RECIPIENT_TRANSITIONS))
FINAL = final_statuses(RECIPIENT_TRANSITIONS)


def move(
    rows: QuerySet[Recipient],
    target: str,
    *,
    sources: Iterable[str] | None = None,
    reason: str = "",
    reason_params: Mapping[str, Any] | None = None,
    **fields: Any,
) -> int:
    """Move the recipients of ``rows`` to ``target`` where their status allows it.

    ``sources`` narrows the statuses moved (each must be allowed to reach
    ``target``, else :class:`~django_smsgo.services.states.InvalidTransition`);
    by default every status that may. ``reason`` (a
    :class:`~django_smsgo.reasons.Reason` code) replaces the stored reason,
    also with '' to clear it. ``fields`` are saved in the same UPDATE
    (``updated_at`` always is). Returns how many recipients moved.
    """
    allowed = (
        check_moves(RECIPIENT_TRANSITIONS, sources, target)
        if sources is not None
        else sources_of(RECIPIENT_TRANSITIONS, target)
    )
    values: dict[str, Any] = {
        "status": target,
        "reason_code": str(reason),
        "reason_params": dict(reason_params or {}),
        **fields,
    }
    values.setdefault("updated_at", timezone.now())
    return rows.filter(status__in=allowed).update(**values)


def fail_unclaimed(
    message: Message, reason: str, reason_params: Mapping[str, Any], *, now: datetime
) -> int:
    """Fail the message's recipients no batch has claimed (nothing was sent to them)."""
    rows = Recipient.objects.filter(message_id=message.pk).unclaimed()
    return move(
        rows, R.FAILED, sources=[R.QUEUED], reason=reason, reason_params=reason_params, final_at=now
    )


def cancel_unclaimed(message: Message, *, now: datetime) -> int:
    """Cancel the message's recipients no batch has claimed; return how many."""
    rows = Recipient.objects.filter(message_id=message.pk).unclaimed()
    return move(rows, R.CANCELLED, sources=[R.QUEUED], reason=Reason.CANCELLED, final_at=now)


def give_up(rows: QuerySet[Recipient], *, seconds: int, now: datetime) -> int:
    """Fail submitted recipients that had no final status within ``seconds``."""
    return move(
        rows,
        R.FAILED,
        sources=[R.SUBMITTED],
        reason=Reason.NO_FINAL_STATUS,
        reason_params={"seconds": seconds},
        final_at=now,
    )


# --- delivery reports -----------------------------------------------------------------------

#: What a report's state makes of its recipient: delivered or failed by the state itself.
BY_STATE = "by_state"


@dataclass(frozen=True)
class ReportRule:
    """A report whose state is (``final``) or is not final, meeting a recipient in ``statuses``.

    ``same`` is whether the state equals the one already known (None: either).
    The first rule that matches decides the report's ``outcome`` and what
    the recipient ``becomes`` (None: nothing changes; :data:`BY_STATE`:
    delivered for ``DELIVRD``, else failed).
    """

    statuses: frozenset[str]
    final: bool
    same: bool | None
    outcome: str
    becomes: str | None


#: Final is terminal; a report proves the gateway took the SMS; repeats change nothing.
REPORT_RULES: tuple[ReportRule, ...] = (
    ReportRule(FINAL, final=False, same=None, outcome=Outcome.STALE, becomes=None),
    ReportRule(FINAL, final=True, same=True, outcome=Outcome.DUPLICATE, becomes=None),
    ReportRule(FINAL, final=True, same=False, outcome=Outcome.CONFLICT, becomes=None),
    ReportRule(OPEN, final=True, same=None, outcome=Outcome.APPLIED, becomes=BY_STATE),
    ReportRule(
        frozenset({R.SUBMITTED}), final=False, same=True, outcome=Outcome.DUPLICATE, becomes=None
    ),
    ReportRule(OPEN, final=False, same=None, outcome=Outcome.APPLIED, becomes=R.SUBMITTED),
)


def normalise_state(statusstr: str) -> str:
    """The comparable form of a gateway status text: stripped, upper case."""
    return statusstr.strip().upper()


def decide(status: str, state: str, known: str) -> ReportRule:
    """The rule for a report of ``state`` (normalised) on a recipient in ``status``.

    ``known`` is the state the recipient had (normalised; '' for none).
    """
    final = state in FINAL_STATES
    same = state == known
    for rule in REPORT_RULES:
        if status in rule.statuses and rule.final == final and rule.same in (None, same):
            return rule
    raise AssertionError(f"no report rule for status {status!r}, state {state!r}")


def status_after(rule: ReportRule, state: str) -> str:
    """The status an applied ``rule`` gives the recipient of a report of ``state``."""
    if rule.becomes == BY_STATE:
        return R.DELIVERED if state == DELIVERED else R.FAILED
    assert rule.becomes is not None
    return rule.becomes


def final_reason(state: str) -> tuple[str, dict[str, str]]:
    """The reason a final ``state`` gives its recipient: none for DELIVRD, else the state."""
    if state == DELIVERED:
        return "", {}
    return str(Reason.FINAL_STATE), {"state": state}


#: Every column a report may change on its recipient.
REPORT_FIELDS = (
    "status",
    "gateway_status",
    "gateway_statuscode",
    "updated_at",
    "final_at",
    "reason_code",
    "reason_params",
    "submitted_at",
)


def apply_report(
    recipient: Recipient, *, statusstr: str, statuscode: int | None, now: datetime
) -> str:
    """Apply a report to ``recipient`` (locked by the caller); return the report's outcome.

    The recipient row is saved only when the outcome is ``applied``.
    """
    outcome = _apply(recipient, statusstr=statusstr, statuscode=statuscode, now=now)
    if outcome == Outcome.APPLIED:
        recipient.save(update_fields=REPORT_FIELDS)
    return outcome


def _apply(recipient: Recipient, *, statusstr: str, statuscode: int | None, now: datetime) -> str:
    """Change ``recipient`` in memory as the report rules say; return the outcome."""
    state = normalise_state(statusstr)
    rule = decide(recipient.status, state, normalise_state(recipient.gateway_status))
    if rule.outcome != Outcome.APPLIED:
        return rule.outcome
    recipient.status = status_after(rule, state)
    if state in FINAL_STATES:
        recipient.final_at = now
        recipient.reason_code, recipient.reason_params = final_reason(state)
    if recipient.submitted_at is None:
        recipient.submitted_at = now
    recipient.gateway_status = statusstr
    recipient.gateway_statuscode = statuscode
    recipient.updated_at = now
    return rule.outcome


@dataclass(frozen=True)
class Observation:
    """A state the gateway gave for one known recipient (a status query's answer)."""

    recipient_id: int
    batch_id: int
    msgid: str
    phone: str
    statuscode: int | None
    statusstr: str
    raw: Mapping[str, Any]


def apply_observations(
    observations: Iterable[Observation], *, source: str, now: datetime
) -> list[DeliveryReport]:
    """Apply observations to their recipients and log each, set-based, in one transaction.

    The recipients are locked together; the changed ones are written by one
    ``UPDATE`` per set of new values (one for a whole answer of ``DELIVRD``
    rows of one batch) and the reports by one ``INSERT``. Returns the stored reports,
    each with its outcome (by :data:`REPORT_RULES`, as for a callback).
    """
    chosen = list(observations)
    if not chosen:
        return []
    with locks.writing():
        ids = [o.recipient_id for o in chosen]
        locked = Recipient.objects.select_for_update(of=("self",)).in_bulk(ids)
        changed: dict[int, Recipient] = {}
        reports = []
        for observation in chosen:
            row = locked.get(observation.recipient_id)
            if row is None:
                continue
            outcome = _apply(
                row, statusstr=observation.statusstr, statuscode=observation.statuscode, now=now
            )
            if outcome == Outcome.APPLIED:
                changed[row.pk] = row
            reports.append(
                DeliveryReport(
                    recipient=row,
                    batch_id=observation.batch_id,
                    msgid=observation.msgid,
                    phone=observation.phone,
                    statuscode=observation.statuscode,
                    statusstr=observation.statusstr,
                    source=source,
                    outcome=outcome,
                    raw=dict(observation.raw),
                )
            )
        _write_changed(changed.values())
        DeliveryReport.objects.bulk_create(reports)
    return reports


def _write_changed(rows: Iterable[Recipient]) -> None:
    """Write the report fields of ``rows``: one ``UPDATE`` per distinct set of values.

    The rows of one answer mostly take the same values (one state, one
    moment), so this is one short statement where ``bulk_update`` would build
    a ``CASE`` per row and column (most of a polling run's time).
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    values: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        new = {name: getattr(row, name) for name in REPORT_FIELDS}
        key = tuple(
            json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict) else value
            for value in new.values()
        )
        groups.setdefault(key, []).append(row.pk)
        values.setdefault(key, new)
    for key, ids in groups.items():
        Recipient.objects.filter(pk__in=ids).update(**values[key])

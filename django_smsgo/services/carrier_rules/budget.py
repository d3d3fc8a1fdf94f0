"""The points budget: optional caps of points per message kind, per Taipei day and month.

``POINTS_BUDGET = {"marketing": {"day": 5000, "month": 80000}}`` caps what
sends of one kind may commit in a calendar day or month of Asia/Taipei (the
gateway's clock, whatever ``TIME_ZONE`` is). A send counts from the moment it
is queued, with its estimated points; a message that was cancelled or failed
before any of it was submitted counts nothing. A send that would pass a cap
is refused before anything is stored, with the figures
(:class:`PointsBudgetError`); a send that takes the use of a cap across
``POINTS_BUDGET_WARNING`` (80 %) sends :data:`~django_smsgo.signals.points_budget_warning`.

Two sends at once must not both pass the last points of a cap: the check,
:func:`check_points_budget`, runs inside the transaction that stores the
message, after taking a lock that the other send's check waits for —
PostgreSQL's transaction-level advisory lock, or on SQLite the database's
write lock — so the second one counts the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, Sum

from django_smsgo.models import Message
from django_smsgo.services import locks
from django_smsgo.services.carrier_rules.errors import PointsBudgetError

TAIPEI = ZoneInfo("Asia/Taipei")
PERIODS = ("day", "month")


@dataclass(frozen=True)
class BudgetUse:
    """How much of one cap is used: ``used`` of ``cap`` points for ``kind`` in ``period``.

    ``start`` and ``end`` bound the period (aware, Taipei midnights).
    """

    kind: str
    period: str
    cap: int
    used: int
    start: datetime
    end: datetime

    @property
    def ratio(self) -> float:
        """``used / cap`` (1.0 or more when the cap is reached)."""
        return self.used / self.cap if self.cap else 1.0

    @property
    def left(self) -> int:
        """Points still allowed in the period (never negative)."""
        return max(0, self.cap - self.used)


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The Taipei calendar day or month holding ``now``: ``(start, end)``, end excluded."""
    local = now.astimezone(TAIPEI)
    if period == "day":
        start_day = local.date()
        end_day = start_day + timedelta(days=1)
    elif period == "month":
        start_day = local.date().replace(day=1)
        end_day = _next_month(start_day)
    else:
        raise ValueError(f"Budget period {period!r} is not one of {', '.join(PERIODS)}.")
    return _midnight(start_day), _midnight(end_day)


def _next_month(day: date) -> date:
    return (
        day.replace(year=day.year + 1, month=1)
        if day.month == 12
        else day.replace(month=day.month + 1)
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TAIPEI)


def caps_for(kind: str, budget: Mapping[str, Any] | None) -> dict[str, int]:
    """The caps ``POINTS_BUDGET`` sets for ``kind``: ``{"day": 5000}``, or ``{}``."""
    if not budget:
        return {}
    caps = budget.get(kind) or {}
    return {period: int(caps[period]) for period in PERIODS if caps.get(period) is not None}


def points_used(kind: str, start: datetime, end: datetime) -> int:
    """Points committed by queued messages of ``kind`` between ``start`` and ``end``."""
    spent_nothing = Q(
        status__in=[Message.Status.CANCELLED, Message.Status.FAILED], submitted_at__isnull=True
    )
    total = (
        Message.objects.filter(kind=kind, queued_at__gte=start, queued_at__lt=end)
        .exclude(spent_nothing)
        .aggregate(total=Sum("estimated_points"))["total"]
    )
    return int(total or 0)


def budget_use(kind: str, *, now: datetime, budget: Mapping[str, Any] | None) -> list[BudgetUse]:
    """How much of each cap of ``kind`` is used at ``now`` (an empty list: no caps)."""
    uses = []
    for period, cap in caps_for(kind, budget).items():
        start, end = period_bounds(period, now)
        uses.append(BudgetUse(kind, period, cap, points_used(kind, start, end), start, end))
    return uses


def lock_points_budget(kind: str) -> None:
    """Make concurrent budget checks of ``kind`` wait for each other until commit.

    Call inside ``transaction.atomic()``: :func:`~django_smsgo.services.locks.serialise`
    (PostgreSQL's transaction-level advisory lock, SQLite's write lock; other
    databases get no lock).
    """
    locks.serialise(f"points_budget:{kind}")


def check_points_budget(
    kind: str,
    points: int,
    *,
    now: datetime,
    budget: Mapping[str, Any] | None,
    warning_ratio: float = 0.8,
) -> list[BudgetUse]:
    """Refuse a send of ``points`` passing a cap of ``kind``; run it in the store transaction.

    Takes :func:`lock_points_budget` first, so two concurrent sends cannot both
    pass. Raises :class:`PointsBudgetError` with the figures of the first cap
    passed. Otherwise returns the use of each cap before this send and, when
    this send takes a cap across ``warning_ratio``, sends
    ``points_budget_warning`` after commit.
    """
    caps = caps_for(kind, budget)
    if not caps:
        return []
    lock_points_budget(kind)
    uses = budget_use(kind, now=now, budget=budget)
    for use in uses:
        if use.used + points > use.cap:
            raise PointsBudgetError(
                points, kind=kind, period=use.period, cap=use.cap, used=use.used
            )
    for use in uses:
        after = use.used + points
        if use.ratio < warning_ratio <= after / use.cap:
            _warn_on_commit(use, after)
    return uses


def _warn_on_commit(use: BudgetUse, after: int) -> None:
    from django_smsgo.signals import points_budget_warning

    transaction.on_commit(
        lambda: points_budget_warning.send(
            sender=Message,
            kind=use.kind,
            period=use.period,
            used=after,
            cap=use.cap,
        ),
        robust=True,
    )

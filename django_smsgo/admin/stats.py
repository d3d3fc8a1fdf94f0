"""Figures the admin shows: delivery counts, the seven-day summary and the balance.

Each function answers in one query whatever the number of recipients, so the
change list and the message page stay bounded: delivery counts are read from
the recipients' tallies (:mod:`django_smsgo.services.tallies`), not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import BalanceSnapshot, Message, Recipient
from django_smsgo.services import tallies

#: The gateway's clock: schedules and the daily summary are in Taiwan time.
TAIPEI = ZoneInfo("Asia/Taipei")

R = Recipient.Status


def taipei_time(moment: datetime | None) -> str:
    """``moment`` as Taiwan wall-clock time (``YYYY-MM-DD HH:MM``), empty for None."""
    if moment is None:
        return ""
    return timezone.localtime(moment, TAIPEI).strftime("%Y-%m-%d %H:%M")


@dataclass
class DeliveryCounts:
    """How many recipients of one message are in each stage."""

    delivered: int = 0
    pending: int = 0  # queued or submitted: no final state yet
    uncertain: int = 0
    failed: int = 0
    cancelled: int = 0

    by_status: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_statuses(cls, by_status: dict[str, int]) -> DeliveryCounts:
        return cls(
            delivered=by_status.get(R.DELIVERED, 0),
            pending=by_status.get(R.QUEUED, 0) + by_status.get(R.SUBMITTED, 0),
            uncertain=by_status.get(R.UNCERTAIN, 0),
            failed=by_status.get(R.FAILED, 0),
            cancelled=by_status.get(R.CANCELLED, 0),
            by_status=dict(by_status),
        )

    @property
    def total(self) -> int:
        return self.delivered + self.pending + self.uncertain + self.failed + self.cancelled

    def share(self, part: int) -> float:
        """``part`` as a percentage of all recipients (for the bar's widths)."""
        return round(100.0 * part / self.total, 2) if self.total else 0.0

    def segments(self) -> list[tuple[str, int, float]]:
        """(css class, count, width %) for each non-empty part of the delivery bar."""
        parts = [
            ("delivered", self.delivered),
            ("pending", self.pending),
            ("uncertain", self.uncertain),
            ("failed", self.failed),
            ("cancelled", self.cancelled),
        ]
        return [(name, count, self.share(count)) for name, count in parts if count]


def recipient_counts(message_ids: Iterable[int]) -> dict[int, DeliveryCounts]:
    """Delivery counts for each of the messages, from their tallies (one query)."""
    counts = tallies.status_counts(message_ids)
    return {pk: DeliveryCounts.from_statuses(by_status) for pk, by_status in counts.items()}


def attach_counts(messages: Iterable[Message]) -> None:
    """Give each message a ``delivery_counts`` attribute (one query for all)."""
    listed = list(messages)
    counts = recipient_counts(m.pk for m in listed)
    for message in listed:
        message.delivery_counts = counts[message.pk]  # type: ignore[attr-defined]


@dataclass
class Day:
    """One day of the summary chart."""

    day: date
    sent: int = 0
    delivered: int = 0
    failed: int = 0

    @property
    def pending(self) -> int:
        return max(self.sent - self.delivered - self.failed, 0)


@dataclass
class Summary:
    """Sent, delivered and failed SMS over the last days, day by day (Taiwan dates)."""

    days: list[Day] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(d.sent for d in self.days)

    @property
    def delivered(self) -> int:
        return sum(d.delivered for d in self.days)

    @property
    def failed(self) -> int:
        return sum(d.failed for d in self.days)

    @property
    def delivered_rate(self) -> float | None:
        """Delivered as a percentage of sent, None when nothing was sent."""
        return round(100.0 * self.delivered / self.sent, 1) if self.sent else None

    @property
    def peak(self) -> int:
        return max((d.sent for d in self.days), default=0)

    def bars(self) -> list[dict[str, object]]:
        """Per day: the figures and the bar heights (% of the busiest day)."""
        peak = self.peak or 1
        return [
            {
                "day": d.day,
                "sent": d.sent,
                "delivered": d.delivered,
                "failed": d.failed,
                "pending": d.pending,
                "height": round(100.0 * d.sent / peak, 1),
                "delivered_h": round(100.0 * d.delivered / peak, 1),
                "failed_h": round(100.0 * d.failed / peak, 1),
                "pending_h": round(100.0 * d.pending / peak, 1),
            }
            for d in self.days
        ]


#: Seconds the change list's summary is reused: it reads every recipient of
#: the week, which on a busy account is millions of rows.
SUMMARY_CACHE_SECONDS = 60


def cached_summary() -> Summary:
    """The seven-day summary, computed at most once a minute (Django's cache)."""
    from django.core.cache import cache

    today = timezone.localtime(timezone.now(), TAIPEI).date()
    key = f"django_smsgo:admin:summary:{today.isoformat()}"
    summary = cache.get(key)
    if summary is None:
        summary = seven_day_summary()
        cache.set(key, summary, SUMMARY_CACHE_SECONDS)
    return summary


def seven_day_summary(now: datetime | None = None, days: int = 7) -> Summary:
    """SMS the gateway accepted on each of the last ``days`` Taiwan days, with their fate.

    "Sent" counts SMS (each recipient times its message's segments) by the
    day the gateway accepted them; failures also count SMS refused before
    being accepted, by the day they failed.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, TAIPEI).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=TAIPEI)
    sent_rows = (
        # A recipient cancelled at the gateway before its schedule was never sent.
        Recipient.objects.filter(submitted_at__gte=start)
        .exclude(status=R.CANCELLED)
        .annotate(day=TruncDate("submitted_at", tzinfo=TAIPEI))
        .values_list("day")
        .annotate(
            # SMS, not recipients: a three-part text to one number is three SMS (and points).
            sent=Sum("message__segments"),
            delivered=Sum("message__segments", filter=Q(status=R.DELIVERED), default=0),
            failed=Sum("message__segments", filter=Q(status=R.FAILED), default=0),
        )
        .order_by()
    )
    summary = Summary(days=[Day(first + timedelta(days=i)) for i in range(days)])
    by_day = {d.day: d for d in summary.days}
    for day, sent, delivered, failed in sent_rows:
        if day in by_day:
            entry = by_day[day]
            entry.sent, entry.delivered, entry.failed = sent, delivered, failed
    refused_rows = (
        Recipient.objects.filter(status=R.FAILED, submitted_at__isnull=True, updated_at__gte=start)
        .annotate(day=TruncDate("updated_at", tzinfo=TAIPEI))
        .values_list("day")
        .annotate(n=Sum("message__segments"))
        .order_by()
    )
    for day, n in refused_rows:
        if day in by_day:
            by_day[day].failed += n
            by_day[day].sent += n
    return summary


@dataclass
class BalanceInfo:
    """The last known balance and whether it is below ``LOW_BALANCE_THRESHOLD``."""

    points: int | None
    checked_at: datetime | None
    threshold: int

    @property
    def known(self) -> bool:
        return self.points is not None

    @property
    def charged_since(self) -> int:
        """Points charged for sends after this balance was read (0 when none, or never read)."""
        from django_smsgo.services.balance import charged_since

        return charged_since(self.checked_at) if self.checked_at is not None else 0

    @property
    def points_shown(self) -> str:
        """The points with thousands separators (``8,520``), '—' when never asked."""
        return f"{self.points:,}" if self.points is not None else "—"

    @property
    def low(self) -> bool:
        return self.points is not None and self.points < self.threshold


def last_balance() -> BalanceInfo:
    """The balance from the last ``refresh_balance`` (one query)."""
    snapshot = BalanceSnapshot.objects.order_by("-checked_at", "-pk").first()
    return BalanceInfo(
        points=snapshot.points if snapshot else None,
        checked_at=snapshot.checked_at if snapshot else None,
        threshold=int(smsgo_settings.LOW_BALANCE_THRESHOLD),
    )

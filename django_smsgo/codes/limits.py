"""The limits of the code service, enforced atomically on the database (and a cache).

Each limit is one row moved on by one conditional ``UPDATE … WHERE count <= limit
- n``: the statement either takes the send or changes nothing, and concurrent
transactions are ordered by the database, so two requests can never both pass
the last free place. Rows are created with ``INSERT … ON CONFLICT DO NOTHING``
first (``bulk_create(ignore_conflicts=True)``), which waits for a concurrent
creator instead of failing. Every transaction takes its rows in the same order
(cooldown, number, key, global, budgets), so they cannot deadlock.

Windows are fixed and aligned on Taipei time (UTC+8, no daylight saving): an
hourly cap renews on the hour, a daily one at midnight in Taiwan. A fixed window
lets through at most twice its cap across a boundary; pair a short window with
a longer one (the defaults do) to bound that.

With ``OTP_CACHE`` set, the same limits are first checked on the cache with
atomic ``add``/``incr`` (Redis or Memcached), so a flood is refused without
a database write; the database stays the authority, and a cache that fails is
skipped, never trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import caches
from django.db.models import F, Q
from django.utils.crypto import salted_hmac

from django_smsgo.codes.errors import BudgetExhausted, CooldownActive, SendCapReached
from django_smsgo.codes.models import CodeCooldown, SendCounter

logger = logging.getLogger(__name__)

#: Taiwan's offset from UTC; it has had no daylight saving time since 1979.
TAIPEI_OFFSET = timedelta(hours=8)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIGEST_SALT = "django_smsgo.codes.limits"
_CACHE_PREFIX = "smsgo:otp:"


def subject_digest(scope: str, value: str) -> str:
    """A keyed digest of ``value``: counters never store a number or an IP address."""
    return salted_hmac(_DIGEST_SALT, f"{scope}:{value}", algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Limit:
    """One limit a send must pass: ``limit`` units per window starting at ``start``."""

    scope: str
    subject: str
    window: int  # seconds; 0 for a calendar month
    start: datetime
    end: datetime
    limit: int

    def retry_after(self, now: datetime) -> float:
        """Seconds until this window ends."""
        return (self.end - now).total_seconds()


def fixed_window(now: datetime, seconds: int) -> tuple[datetime, datetime]:
    """The window of ``seconds`` holding ``now``, aligned on Taipei time."""
    local = (now - _EPOCH + TAIPEI_OFFSET).total_seconds()
    start = _EPOCH + timedelta(seconds=local - local % seconds) - TAIPEI_OFFSET
    return start, start + timedelta(seconds=seconds)


def taipei_month(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month holding ``now`` in Taipei, as UTC instants."""
    local = now.astimezone(UTC) + TAIPEI_OFFSET
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    return first - TAIPEI_OFFSET, following - TAIPEI_OFFSET


def cap_limits(scope: str, value: str, caps: Iterable[Sequence[int]], now: datetime) -> list[Limit]:
    """One :class:`Limit` per ``(count, seconds)`` pair of a cap setting."""
    limits = []
    subject = subject_digest(scope, value)
    for pair in caps or ():
        count, seconds = (int(part) for part in pair)
        start, end = fixed_window(now, seconds)
        limits.append(Limit(scope, subject, seconds, start, end, count))
    return limits


def budget_limits(daily: int | None, monthly: int | None, now: datetime) -> list[Limit]:
    """The points budgets of the day and the month in Taipei (those that are set)."""
    limits = []
    if daily is not None:
        start, end = fixed_window(now, 86400)
        limits.append(Limit(SendCounter.Scope.DAILY_POINTS, "", 86400, start, end, int(daily)))
    if monthly is not None:
        start, end = taipei_month(now)
        limits.append(Limit(SendCounter.Scope.MONTHLY_POINTS, "", 0, start, end, int(monthly)))
    return limits


# --------------------------------------------------------------------------- database


def claim_cooldown(subject: str, cooldown: int, now: datetime) -> None:
    """Take the number's cooldown, or raise :class:`CooldownActive`. Call inside a transaction."""
    if cooldown <= 0:
        return
    CodeCooldown.objects.bulk_create(
        [CodeCooldown(subject=subject, last_sent_at=None)], ignore_conflicts=True
    )
    taken = (
        CodeCooldown.objects.filter(subject=subject)
        .filter(
            Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - timedelta(seconds=cooldown))
        )
        .update(last_sent_at=now)
    )
    if not taken:
        last = CodeCooldown.objects.filter(subject=subject).values_list("last_sent_at", flat=True)
        last_sent = last.first() or now
        raise CooldownActive(
            cooldown, (last_sent + timedelta(seconds=cooldown) - now).total_seconds()
        )


def _ensure_rows(limits: Sequence[Limit]) -> None:
    SendCounter.objects.bulk_create(
        [
            SendCounter(
                scope=lim.scope, subject=lim.subject, window=lim.window, window_start=lim.start
            )
            for lim in limits
        ],
        ignore_conflicts=True,
    )


def _counter(lim: Limit) -> Any:
    return SendCounter.objects.filter(
        scope=lim.scope, subject=lim.subject, window=lim.window, window_start=lim.start
    )


def claim_caps(limits: Sequence[Limit], now: datetime) -> None:
    """Count one send against each cap, or raise :class:`SendCapReached` (inside a transaction)."""
    if not limits:
        return
    _ensure_rows(limits)
    for lim in limits:
        if not _counter(lim).filter(count__lte=lim.limit - 1).update(count=F("count") + 1):
            raise SendCapReached(str(lim.scope), lim.limit, lim.window, lim.retry_after(now))


def charge_budgets(limits: Sequence[Limit], points: int, now: datetime) -> None:
    """Charge ``points`` to each budget or raise :class:`BudgetExhausted` (in a transaction)."""
    if not limits:
        return
    _ensure_rows(limits)
    for lim in limits:
        if (
            not _counter(lim)
            .filter(count__lte=lim.limit - points)
            .update(count=F("count") + points)
        ):
            spent = _counter(lim).values_list("count", flat=True).first() or 0
            period = "day" if lim.scope == SendCounter.Scope.DAILY_POINTS else "month"
            raise BudgetExhausted(period, lim.limit, int(spent), lim.retry_after(now))


def mark_exhausted(lim: Limit, now: datetime) -> bool:
    """Note the first refusal of a budget's period; True only for the first one."""
    _ensure_rows([lim])
    return bool(_counter(lim).filter(exhausted_at__isnull=True).update(exhausted_at=now))


# --------------------------------------------------------------------------- cache


class CacheGuard:
    """The same limits on a cache, checked before the database; undone on any refusal.

    ``alias`` ``None`` makes every method a no-op. A cache error switches the
    guard off for the rest of the call: the database decides alone.
    """

    def __init__(self, alias: str | None) -> None:
        self.cache = caches[alias] if alias else None
        self._counted: list[str] = []
        self._cooldown_key: str | None = None

    def _failed(self, error: Exception) -> None:
        logger.warning("OTP_CACHE failed (%s); limits checked on the database only.", error)
        self.cache = None

    def cooldown(self, subject: str, cooldown: int, now: datetime) -> None:
        """Take the cooldown on the cache, or raise :class:`CooldownActive`."""
        if self.cache is None or cooldown <= 0:
            return
        key = f"{_CACHE_PREFIX}cool:{subject}"
        try:
            if self.cache.add(key, now.timestamp(), timeout=cooldown):
                self._cooldown_key = key
                return
            since = self.cache.get(key)
        except Exception as error:
            self._failed(error)
            return
        elapsed = now.timestamp() - float(since) if since is not None else 0.0
        raise CooldownActive(cooldown, cooldown - elapsed)

    def caps(self, limits: Sequence[Limit], now: datetime) -> None:
        """Count one send against each cap on the cache, or raise :class:`SendCapReached`."""
        for lim in limits:
            if self.cache is None:
                return
            start = int(lim.start.timestamp())
            key = f"{_CACHE_PREFIX}{lim.scope}:{lim.subject}:{lim.window}:{start}"
            timeout = max(1, int(lim.retry_after(now)) + 60)
            try:
                self.cache.add(key, 0, timeout=timeout)
                count = self.cache.incr(key)
            except Exception as error:
                self._failed(error)
                return
            self._counted.append(key)
            if count > lim.limit:
                raise SendCapReached(str(lim.scope), lim.limit, lim.window, lim.retry_after(now))

    def undo(self, *, keep_cooldown: bool = False) -> None:
        """Give back what this call took on the cache (the send did not happen).

        ``keep_cooldown``: the database found the number cooling down, so the
        cache's cooldown key stays and refuses the next requests early.
        """
        if self.cache is None:
            return
        try:
            for key in self._counted:
                self.cache.decr(key)
            if self._cooldown_key is not None and not keep_cooldown:
                self.cache.delete(self._cooldown_key)
        except Exception as error:
            self._failed(error)
        self._counted.clear()
        self._cooldown_key = None

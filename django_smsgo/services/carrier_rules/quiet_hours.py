"""Quiet hours: when marketing SMS are not delivered, always on Taipei's clock.

Shops in Taiwan avoid sending marketing SMS at night; the project names the
window (``QUIET_HOURS``, e.g. ``[("21:00", "09:00")]``, several ranges allowed,
a range may cross midnight). Every function here takes aware datetimes and
reads them in Asia/Taipei (UTC+8 all year, no daylight saving), whatever the
project's ``TIME_ZONE``: the receivers are in Taiwan.

A range includes its start minute and excludes its end: with 21:00–09:00,
20:59:59 is outside, 21:00:00 inside, 08:59:59 inside and 09:00:00 outside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")

#: What a send scheduled inside the window gets (``QUIET_HOURS_SCHEDULED``).
MOVE = "move"
REFUSE = "refuse"
SCHEDULED_POLICIES = (MOVE, REFUSE)

# Ranges that touch or overlap are walked through one after another; more
# steps than this would mean the window never ends (it covers the whole day).
_MAX_STEPS = 48


@dataclass(frozen=True)
class QuietRange:
    """One quiet range of the day in Taipei, ``start`` included, ``end`` excluded."""

    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        """True for a range such as 21:00–09:00."""
        return self.end < self.start

    def contains(self, moment: datetime) -> bool:
        """True when ``moment`` (aware) falls in this range, read in Taipei."""
        clock = _taipei(moment).time().replace(tzinfo=None)
        if self.crosses_midnight:
            return clock >= self.start or clock < self.end
        return self.start <= clock < self.end

    def end_after(self, moment: datetime) -> datetime:
        """The first end of this range at or after ``moment`` (aware, in Taipei)."""
        local = _taipei(moment)
        end = datetime.combine(local.date(), self.end, tzinfo=TAIPEI)
        if end <= local:
            end += timedelta(days=1)
        return end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def _taipei(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} is naive; quiet hours need an aware datetime.")
    return moment.astimezone(TAIPEI)


def parse_time(value: object) -> time:
    """``"21:00"``, ``"9:30"`` or a ``datetime.time`` as a time of day; ``ValueError`` otherwise."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"{value!r}: quiet hours are times of day in Taipei, without zone.")
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str):
        hours, colon, minutes = value.strip().partition(":")
        if colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            hour, minute = int(hours), int(minutes)
            if hour == 24 and minute == 0:
                return time(0, 0)
            if 0 <= hour < 24 and 0 <= minute < 60:
                return time(hour, minute)
    raise ValueError(f"{value!r} is not a time of day such as '21:00'.")


def parse_quiet_hours(value: Iterable[Sequence[object]] | None) -> tuple[QuietRange, ...]:
    """``QUIET_HOURS`` read into ranges (``None`` or empty: no quiet hours).

    Each item is a pair ``(start, end)`` of ``"HH:MM"`` strings or times.
    Raises ``ValueError`` naming the item for a malformed one, or for a range
    whose start equals its end (empty or the whole day: say which).
    """
    if not value:
        return ()
    ranges: list[QuietRange] = []
    for item in value:
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
            raise ValueError(f"QUIET_HOURS item {item!r} is not a pair such as ('21:00', '09:00').")
        start, end = parse_time(item[0]), parse_time(item[1])
        if start == end:
            raise ValueError(
                f"QUIET_HOURS item {item!r} starts and ends at the same minute; an empty or "
                "all-day window is not a window."
            )
        ranges.append(QuietRange(start, end))
    return tuple(ranges)


def quiet_range_at(moment: datetime, ranges: Iterable[QuietRange]) -> QuietRange | None:
    """The range ``moment`` falls in, or None when it is outside the quiet hours."""
    for quiet in ranges:
        if quiet.contains(moment):
            return quiet
    return None


def is_quiet(moment: datetime, ranges: Iterable[QuietRange]) -> bool:
    """True when ``moment`` (aware, any zone) falls in the quiet hours."""
    return quiet_range_at(moment, ranges) is not None


def window_end(moment: datetime, ranges: Sequence[QuietRange]) -> datetime | None:
    """When the quiet window holding ``moment`` ends (in Taipei), or None when it is outside.

    Ranges that touch or overlap count as one window: from 23:00 in
    21:00–23:30 and 23:30–01:00 the window ends at 01:00.
    """
    current = _taipei(moment)
    if quiet_range_at(current, ranges) is None:
        return None
    for _ in range(_MAX_STEPS):
        quiet = quiet_range_at(current, ranges)
        if quiet is None:
            return current
        current = quiet.end_after(current)
    raise ValueError("QUIET_HOURS cover the whole day: there is no moment to send at.")


def describe_ranges(ranges: Iterable[QuietRange]) -> str:
    """The ranges as ``21:00–09:00, 12:00–13:30`` (for messages and the admin)."""
    return ", ".join(str(quiet) for quiet in ranges)

"""Quiet hours on Taipei's clock: boundary minutes, several ranges, midnight, any TIME_ZONE."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from django_smsgo.services.carrier_rules import CarrierRules, Draft, QuietHoursError, apply_rules
from django_smsgo.services.carrier_rules.quiet_hours import (
    QuietRange,
    is_quiet,
    parse_quiet_hours,
    parse_time,
    window_end,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NIGHT = parse_quiet_hours([("21:00", "09:00")])


def taipei(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 11, day, hour, minute, second, tzinfo=TAIPEI)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (taipei(3, 20, 59, 59), False),
        (taipei(3, 21, 0, 0), True),
        (taipei(3, 23, 59, 59), True),
        (taipei(4, 0, 0, 0), True),
        (taipei(4, 8, 59, 59), True),
        (taipei(4, 9, 0, 0), False),
        (taipei(4, 12, 0, 0), False),
    ],
)
def test_boundary_minutes_of_a_window_crossing_midnight(moment: datetime, quiet: bool) -> None:
    assert is_quiet(moment, NIGHT) is quiet


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/London", "Pacific/Kiritimati"])
def test_the_window_is_taipei_time_whatever_zone_the_moment_is_in(zone: str) -> None:
    # 20:59 and 21:00 Taipei are 12:59 and 13:00 UTC; in any zone the same instants.
    before = taipei(3, 20, 59).astimezone(ZoneInfo(zone))
    at = taipei(3, 21, 0).astimezone(ZoneInfo(zone))
    assert not is_quiet(before, NIGHT)
    assert is_quiet(at, NIGHT)
    assert window_end(at, NIGHT) == taipei(4, 9, 0)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Taipei"])
def test_the_project_time_zone_does_not_move_the_window(zone: str) -> None:
    rules = CarrierRules(quiet_hours=NIGHT)
    instant = datetime(2025, 11, 3, 13, 0, tzinfo=UTC)  # 21:00 in Taipei
    with override_settings(TIME_ZONE=zone):
        before = apply_rules(
            Draft("a", "marketing", now=timezone.localtime(instant) - timedelta(seconds=1)), rules
        )
        at = apply_rules(Draft("a", "marketing", now=timezone.localtime(instant)), rules)
    assert not before.held
    assert at.held
    assert at.send_at == taipei(4, 9, 0)


def test_window_end_of_a_moment_outside_is_none() -> None:
    assert window_end(taipei(3, 12), NIGHT) is None


def test_end_before_and_after_midnight() -> None:
    assert window_end(taipei(3, 23, 30), NIGHT) == taipei(4, 9, 0)
    assert window_end(taipei(4, 3, 0), NIGHT) == taipei(4, 9, 0)
    assert window_end(taipei(4, 8, 59, 59), NIGHT) == taipei(4, 9, 0)


def test_several_ranges_and_ranges_that_touch() -> None:
    ranges = parse_quiet_hours([("12:00", "13:30"), ("21:00", "23:30"), ("23:30", "08:00")])
    assert window_end(taipei(3, 12, 15), ranges) == taipei(3, 13, 30)
    assert not is_quiet(taipei(3, 13, 30), ranges)
    assert window_end(taipei(3, 22, 0), ranges) == taipei(4, 8, 0)  # walked through both


def test_a_range_within_one_day() -> None:
    (lunch,) = parse_quiet_hours([("12:00", "13:00")])
    assert not lunch.crosses_midnight
    assert lunch.contains(taipei(3, 12, 0))
    assert not lunch.contains(taipei(3, 13, 0))


def test_ranges_covering_the_whole_day_are_refused() -> None:
    ranges = parse_quiet_hours([("00:00", "12:00"), ("12:00", "00:00")])
    with pytest.raises(ValueError, match="whole day"):
        window_end(taipei(3, 5), ranges)


@pytest.mark.parametrize(
    "value",
    [[("21:00",)], ["21:00-09:00"], [("25:00", "09:00")], [("21:00", "21:00")], [("9", "10")]],
)
def test_malformed_quiet_hours_are_named(value: object) -> None:
    with pytest.raises(ValueError, match=r"QUIET_HOURS|time of day"):
        parse_quiet_hours(value)  # type: ignore[arg-type]


def test_times_of_day() -> None:
    assert parse_time("9:05") == time(9, 5)
    assert parse_time("24:00") == time(0, 0)
    assert parse_time(time(21, 0, 30)) == time(21, 0)
    with pytest.raises(ValueError, match="naive"):
        is_quiet(datetime(2025, 11, 3, 21, 0), NIGHT)


# --------------------------------------------------------------------------- through apply_rules


RULES = CarrierRules(quiet_hours=NIGHT)


def test_an_immediate_marketing_send_in_the_window_is_held_to_its_end() -> None:
    ruled = apply_rules(Draft("全館八折", "marketing", now=taipei(3, 21, 0)), RULES)
    assert ruled.held
    assert ruled.send_at == taipei(4, 9, 0)
    assert ruled.original_send_at is None
    (note,) = ruled.notes
    assert note.code == "held_for_quiet_hours"
    assert "2025-11-04 09:00" in note.text


def test_a_send_one_second_before_the_window_is_not_held() -> None:
    ruled = apply_rules(Draft("全館八折", "marketing", now=taipei(3, 20, 59, 59)), RULES)
    assert not ruled.held
    assert ruled.send_at is None


def test_a_send_at_the_window_end_is_not_held() -> None:
    ruled = apply_rules(Draft("全館八折", "marketing", now=taipei(4, 9, 0)), RULES)
    assert not ruled.held


def test_transactional_sms_are_never_held() -> None:
    ruled = apply_rules(Draft("驗證碼 1234", "transactional", now=taipei(3, 23, 0)), RULES)
    assert not ruled.held
    assert ruled.send_at is None


def test_a_scheduled_send_inside_is_moved_or_refused_as_configured() -> None:
    draft = Draft("全館八折", "marketing", now=taipei(3, 12), send_at=taipei(3, 22, 0))
    moved = apply_rules(draft, RULES)
    assert moved.held
    assert moved.send_at == taipei(4, 9, 0)
    assert moved.notes[0].code == "moved_out_of_quiet_hours"
    refusing = CarrierRules(quiet_hours=NIGHT, quiet_hours_scheduled="refuse")
    with pytest.raises(QuietHoursError) as caught:
        apply_rules(draft, refusing)
    assert caught.value.rule_code == "quiet_hours"
    assert "send_at" in caught.value.rule
    assert "22:00" in str(caught.value)
    assert "21:00–09:00" in str(caught.value)


def test_a_scheduled_send_outside_is_left_alone() -> None:
    draft = Draft("全館八折", "marketing", now=taipei(3, 12), send_at=taipei(3, 20, 59))
    ruled = apply_rules(draft, CarrierRules(quiet_hours=NIGHT, quiet_hours_scheduled="refuse"))
    assert ruled.send_at == taipei(3, 20, 59)
    assert not ruled.held


def test_holding_past_the_expiry_is_refused() -> None:
    draft = Draft(
        "限時優惠", "marketing", now=taipei(3, 22), expires_at=taipei(3, 22) + timedelta(hours=2)
    )
    with pytest.raises(QuietHoursError, match="expiry"):
        apply_rules(draft, RULES)


def test_quiet_range_text() -> None:
    assert str(QuietRange(time(21, 0), time(9, 0))) == "21:00–09:00"

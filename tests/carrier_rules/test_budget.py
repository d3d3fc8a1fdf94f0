"""The points budget: caps per kind per Taipei day and month, checked atomically."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from django_smsgo.models import Message
from django_smsgo.services.carrier_rules import check_budget
from django_smsgo.services.carrier_rules.budget import (
    check_points_budget,
    lock_points_budget,
    period_bounds,
    points_used,
)
from django_smsgo.services.carrier_rules.errors import PointsBudgetError
from django_smsgo.signals import points_budget_warning

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2025, 11, 3, 12, 0, tzinfo=TAIPEI)
BUDGET = {"marketing": {"day": 100, "month": 1000}}


def queued(points: int, *, kind: str = "marketing", at: datetime = NOW, **fields: Any) -> Message:
    return Message.objects.create(
        body="x",
        body_hash="0" * 64,
        encoding="ASCII",
        kind=kind,
        status=fields.pop("status", Message.Status.QUEUED),
        queued_at=at,
        estimated_points=points,
        **fields,
    )


@pytest.fixture
def warnings_sent() -> Iterator[list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def receive(**kwargs: Any) -> None:
        sent.append({k: kwargs[k] for k in ("kind", "period", "used", "cap")})

    points_budget_warning.connect(receive)
    yield sent
    points_budget_warning.disconnect(receive)


def test_periods_are_taipei_days_and_months_whatever_the_zone_of_now() -> None:
    # 2025-11-30 23:30 Taipei is 15:30 UTC: still November, still the 30th.
    now = datetime(2025, 11, 30, 15, 30, tzinfo=UTC)
    assert period_bounds("day", now) == (
        datetime(2025, 11, 30, tzinfo=TAIPEI),
        datetime(2025, 12, 1, tzinfo=TAIPEI),
    )
    assert period_bounds("month", now) == (
        datetime(2025, 11, 1, tzinfo=TAIPEI),
        datetime(2025, 12, 1, tzinfo=TAIPEI),
    )
    assert period_bounds("month", datetime(2025, 12, 31, 16, 0, tzinfo=UTC))[0] == datetime(
        2026, 1, 1, tzinfo=TAIPEI
    )


@pytest.mark.django_db
def test_points_used_count_queued_messages_of_the_kind_in_the_period() -> None:
    queued(10)
    queued(20, kind="transactional")
    queued(40, at=datetime(2025, 11, 2, 23, 59, 59, tzinfo=TAIPEI))  # the day before
    queued(80, at=datetime(2025, 11, 3, 0, 0, tzinfo=TAIPEI))  # the day's first second
    queued(5, status=Message.Status.CANCELLED)  # cancelled before any request
    queued(7, status=Message.Status.CANCELLED, submitted_at=NOW)  # partly sent: counts
    Message.objects.create(body="d", body_hash="0" * 64, encoding="ASCII", estimated_points=99)
    start, end = period_bounds("day", NOW)
    assert points_used("marketing", start, end) == 10 + 80 + 7


@pytest.mark.django_db(transaction=True)
def test_a_send_that_would_pass_the_cap_is_refused_with_the_figures() -> None:
    queued(90)
    with transaction.atomic():
        check_points_budget("marketing", 10, now=NOW, budget=BUDGET)  # exactly the cap
    with pytest.raises(PointsBudgetError) as caught, transaction.atomic():
        check_points_budget("marketing", 11, now=NOW, budget=BUDGET)
    error = caught.value
    assert (error.needed, error.used, error.cap, error.period, error.kind) == (
        11,
        90,
        100,
        "day",
        "marketing",
    )
    assert error.rule_code == "points_budget"
    assert "90" in str(error)
    assert "100" in str(error)
    assert "11" in str(error)


@pytest.mark.django_db(transaction=True)
def test_the_month_cap_counts_every_day_of_the_month() -> None:
    queued(995, at=datetime(2025, 11, 1, 0, 0, tzinfo=TAIPEI))
    with pytest.raises(PointsBudgetError) as caught, transaction.atomic():
        check_points_budget("marketing", 6, now=NOW, budget=BUDGET)
    assert caught.value.period == "month"


@pytest.mark.django_db(transaction=True)
def test_kinds_without_caps_are_not_limited() -> None:
    queued(10_000, kind="transactional")
    with transaction.atomic():
        assert check_points_budget("transactional", 10_000, now=NOW, budget=BUDGET) == []
        assert check_points_budget("marketing", 1, now=NOW, budget=None) == []


@pytest.mark.django_db(transaction=True)
def test_crossing_the_warning_share_signals_once_after_commit(
    warnings_sent: list[dict[str, Any]],
) -> None:
    queued(70)
    with transaction.atomic():
        check_points_budget("marketing", 9, now=NOW, budget=BUDGET)  # 79 %: no warning
        queued(9)
    assert warnings_sent == []
    with transaction.atomic():
        check_points_budget("marketing", 1, now=NOW, budget=BUDGET)  # 80 %
        queued(1)
        assert warnings_sent == []  # not before commit
    assert warnings_sent == [{"kind": "marketing", "period": "day", "used": 80, "cap": 100}]
    with transaction.atomic():
        check_points_budget("marketing", 5, now=NOW, budget=BUDGET)  # already past: no repeat
    assert len(warnings_sent) == 1


@pytest.mark.django_db
def test_check_budget_reads_the_settings(configure: Callable[..., None]) -> None:
    configure(POINTS_BUDGET={"marketing": {"day": 5}})
    with pytest.raises(PointsBudgetError):
        check_budget("marketing", 6, now=NOW)


def test_the_lock_needs_a_transaction() -> None:
    # A lock outside a transaction would be released at once: refused first.
    with pytest.raises(RuntimeError, match=r"atomic"):
        lock_points_budget("marketing")


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://…)"
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_cannot_both_take_the_last_points() -> None:
    queued(60)
    first_checked = threading.Event()
    second_done = threading.Event()
    outcomes: dict[str, str] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                check_points_budget("marketing", 30, now=NOW, budget=BUDGET)
                first_checked.set()
                # Hold the transaction until the second send is waiting for the
                # lock (or, were there no lock, has finished its own check).
                _wait_for_lock_waiter_or(second_done)
                queued(30)
            outcomes["first"] = "sent"
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_checked.wait(timeout=30)
            with transaction.atomic():
                check_points_budget("marketing", 30, now=NOW, budget=BUDGET)
                queued(30)
            outcomes["second"] = "sent"
        except PointsBudgetError:
            outcomes["second"] = "refused"
        except BaseException as exc:
            errors.append(exc)
        finally:
            second_done.set()
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert outcomes == {"first": "sent", "second": "refused"}
    start, end = period_bounds("day", NOW)
    assert points_used("marketing", start, end) == 90


def _wait_for_lock_waiter_or(done: threading.Event, attempts: int = 600) -> None:
    """Poll PostgreSQL until another session waits for an advisory lock, or ``done`` is set."""
    with connections["default"].cursor() as cursor:
        for _ in range(attempts):
            if done.is_set():
                return
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if cursor.fetchone()[0]:
                return
            done.wait(timeout=0.05)
    raise AssertionError("the second send neither waited for the lock nor finished")

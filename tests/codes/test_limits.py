"""The abuse limits of send_otp(): cooldown, caps, budgets, each refused with a typed error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from django_smsgo.codes import send_otp
from django_smsgo.codes.errors import BudgetExhausted, CooldownActive, SendCapReached
from django_smsgo.codes.limits import fixed_window, taipei_month
from django_smsgo.codes.models import CodeCooldown, OneTimeCode, SendCounter
from django_smsgo.codes.signals import code_budget_exhausted
from django_smsgo.models import Message
from django_smsgo.simulator.instance import Simulator

pytestmark = pytest.mark.django_db


def test_a_second_code_within_the_cooldown_is_refused(
    code_gateway: Simulator, refusals: list[dict[str, Any]]
) -> None:
    send_otp("0912345678")
    with pytest.raises(CooldownActive) as caught:
        send_otp("0912-345-678", purpose="login")
    assert 0 < caught.value.retry_after <= 60
    assert "OTP_COOLDOWN" in str(caught.value)
    assert Message.objects.count() == 1
    assert [r["refusal"].reason for r in refusals] == ["cooldown"]
    assert refusals[0]["phone"] == "0912345678"


def test_the_cooldown_ends(code_gateway: Simulator) -> None:
    send_otp("0912345678")
    CodeCooldown.objects.update(last_sent_at=F("last_sent_at") - timedelta(seconds=61))
    send_otp("0912345678")
    assert Message.objects.count() == 2


def test_the_number_cap_counts_every_send_to_the_number(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_COOLDOWN=0, OTP_NUMBER_CAPS=[(2, 3600)])
    send_otp("0912345678")
    send_otp("0912345678", purpose="login")
    with pytest.raises(SendCapReached) as caught:
        send_otp("0912345678")
    assert (caught.value.scope, caught.value.limit, caught.value.window) == ("number", 2, 3600)
    assert "OTP_NUMBER_CAPS" in str(caught.value)
    send_otp("0912345679")  # another number has its own cap
    assert Message.objects.count() == 3


def test_one_key_is_stopped_at_its_cap_whatever_the_numbers(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_KEY_CAPS=[(3, 3600)])
    scopes = []
    for n in range(10):
        try:
            send_otp(f"09123456{n:02d}", key="203.0.113.9")
        except SendCapReached as refusal:
            scopes.append(refusal.scope)
    assert scopes == ["key"] * 7
    assert Message.objects.count() == 3
    send_otp("0922333444", key="198.51.100.1")  # another caller is not affected
    assert Message.objects.count() == 4


def test_the_global_cap_stops_every_caller(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_GLOBAL_CAPS=[(2, 60)])
    send_otp("0912345670", key="a")
    send_otp("0912345671", key="b")
    with pytest.raises(SendCapReached, match="global"):
        send_otp("0912345672", key="c")


def test_a_refusal_leaves_no_trace_but_the_refusal(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_NUMBER_CAPS=[(5, 3600)], OTP_GLOBAL_CAPS=[(1, 3600)])
    send_otp("0912345670")
    before = list(SendCounter.objects.order_by("pk").values_list("scope", "count"))
    with pytest.raises(SendCapReached):
        send_otp("0912345671")
    # The new number's cooldown and cap were taken before the global cap said no:
    # all of it was rolled back.
    assert list(SendCounter.objects.order_by("pk").values_list("scope", "count")) == before
    assert CodeCooldown.objects.count() == 1
    assert OneTimeCode.objects.count() == Message.objects.count() == 1


def test_the_daily_budget_refuses_and_signals_once(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_COOLDOWN=0, OTP_DAILY_BUDGET=2)
    announced: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        announced.append(kwargs)

    code_budget_exhausted.connect(receiver, weak=False)
    try:
        send_otp("0912345670")
        send_otp("0912345671")  # one point each (a short ASCII text)
        for _ in range(2):
            with pytest.raises(BudgetExhausted) as caught:
                send_otp("0912345672")
    finally:
        code_budget_exhausted.disconnect(receiver)
    assert caught.value.period == "day"
    assert (caught.value.budget, caught.value.spent) == (2, 2)
    assert "OTP_DAILY_BUDGET" in str(caught.value)
    assert [a["first"] for a in announced] == [True, False]
    assert Message.objects.count() == 2


def test_the_monthly_budget_counts_points(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_COOLDOWN=0, OTP_MONTHLY_BUDGET=3, OTP_SENDER_TAG="商店")
    send_otp("0912345670", language="zh-hant")  # Chinese: still one segment, one point
    counter = SendCounter.objects.get(scope=SendCounter.Scope.MONTHLY_POINTS)
    assert counter.count == Message.objects.get().estimated_points == 1


def test_counters_never_hold_a_number_or_a_key(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_NUMBER_CAPS=[(5, 3600)], OTP_KEY_CAPS=[(5, 3600)])
    send_otp("0912345678", key="203.0.113.9")
    stored = " ".join(
        [
            *SendCounter.objects.values_list("subject", flat=True),
            *CodeCooldown.objects.values_list("subject", flat=True),
        ]
    )
    assert "912345678" not in stored
    assert "203.0.113.9" not in stored


def test_windows_are_aligned_on_taipei_time() -> None:
    # 2026-03-01 15:30 UTC is 23:30 in Taipei: the Taipei day began at 16:00 UTC the day before.
    now = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    start, end = fixed_window(now, 86400)
    assert start == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert fixed_window(now, 3600) == (now.replace(minute=0), now.replace(hour=16, minute=0))
    # 2026-02-28 17:00 UTC is already March 1st in Taipei.
    month = taipei_month(datetime(2026, 2, 28, 17, 0, tzinfo=UTC))
    assert month == (
        datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
    )


@pytest.fixture
def code_cache(settings: Any, configure: Callable[..., None]) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "codes": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "c"},
    }
    from django.core.cache import caches

    caches["codes"].clear()
    configure(OTP_CACHE="codes")


def test_with_a_cache_a_flood_is_refused_without_touching_the_database(
    code_gateway: Simulator, code_cache: None, configure: Callable[..., None]
) -> None:
    configure(OTP_KEY_CAPS=[(2, 3600)])
    send_otp("0912345678", key="k")
    with CaptureQueriesContext(connection) as queries, pytest.raises(CooldownActive):
        send_otp("0912345678", key="k")
    assert len(queries) == 0
    send_otp("0912345679", key="k")
    with CaptureQueriesContext(connection) as queries, pytest.raises(SendCapReached):
        send_otp("0912345670", key="k")
    assert len(queries) == 0
    assert Message.objects.count() == 2


def test_a_cache_refusal_gives_back_what_it_counted(
    code_gateway: Simulator, code_cache: None, configure: Callable[..., None]
) -> None:
    configure(OTP_COOLDOWN=0, OTP_NUMBER_CAPS=[(1, 3600)], OTP_KEY_CAPS=[(3, 3600)])
    send_otp("0912345678", key="k")
    for _ in range(5):
        with pytest.raises(SendCapReached, match="number"):
            send_otp("0912345678", key="k")
    # The five refused sends did not use up the key's cap.
    send_otp("0912345679", key="k")
    send_otp("0912345670", key="k")
    assert Message.objects.count() == 3


def test_a_database_refusal_gives_back_the_cache_count(
    code_gateway: Simulator, code_cache: None, configure: Callable[..., None]
) -> None:
    configure(OTP_KEY_CAPS=[(2, 3600)])
    send_otp("0912345678", key="k")
    from django.core.cache import caches

    caches["codes"].clear()  # the cache forgot the cooldown; the database did not
    with pytest.raises(CooldownActive):
        send_otp("0912345678", key="k")
    send_otp("0912345679", key="k")  # the refused send did not count against the key
    assert Message.objects.count() == 2

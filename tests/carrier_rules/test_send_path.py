"""The carrier rules in send_sms(): refusals before anything is stored; the final text and time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_smsgo.exceptions import EmptyBodyError, SmsgoValidationError
from django_smsgo.models import Message, Recipient
from django_smsgo.reasons import Reason
from django_smsgo.services.cancelling import can_cancel, cancel_message
from django_smsgo.services.carrier_rules import (
    PointsBudgetError,
    QuietHoursError,
    SenderTagMissingError,
    UnregisteredLinkError,
    UnregisteredNumberError,
)
from django_smsgo.services.estimates import estimate
from django_smsgo.services.sending import create_draft, plan_send, queue_message, send_sms

pytestmark = pytest.mark.django_db

TAIPEI = ZoneInfo("Asia/Taipei")
TAG = "【好物】"


def nothing_stored() -> bool:
    return not Message.objects.exists() and not Recipient.objects.exists()


def quiet_window_around_now(minutes: int = 60) -> tuple[list[tuple[str, str]], datetime]:
    """A quiet range holding the present moment, and its end (Taipei, whole minute)."""
    now = timezone.now().astimezone(TAIPEI)
    start = now - timedelta(minutes=minutes)
    end = (now + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    return [(f"{start:%H:%M}", f"{end:%H:%M}")], end


def quiet_window_elsewhere() -> list[tuple[str, str]]:
    """A quiet range that ends two hours before now and starts two hours after."""
    now = timezone.now().astimezone(TAIPEI)
    return [(f"{now + timedelta(hours=2):%H:%M}", f"{now - timedelta(hours=2):%H:%M}")]


def test_a_required_tag_refuses_before_anything_is_stored(configure: Callable[..., None]) -> None:
    configure(SENDER_TAG=TAG, SENDER_TAG_MODE="require")
    with pytest.raises(SenderTagMissingError):
        send_sms(["0912345678"], "驗證碼 1234", kind="transactional")
    assert nothing_stored()


def test_the_prefixed_tag_is_stored_sent_and_paid_for(
    configure: Callable[..., None], gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    configure(SENDER_TAG=TAG, SENDER_TAG_MODE="prefix")
    body = "好" * 70  # exactly one SMS before the tag
    with django_capture_on_commit_callbacks(execute=True):
        message = send_sms(["0912345678"], body, kind="transactional")
    assert message.body == TAG + body
    assert message.segments == 2
    assert message.estimated_points == 2
    (sent,) = gateway.messages
    assert sent.body == TAG + body
    assert sent.points == 2


def test_the_footer_is_added_to_marketing_only(configure: Callable[..., None]) -> None:
    configure(OPT_OUT_FOOTER=" 退訂回覆STOP")
    promo = send_sms(["0912345678"], "全館八折", kind="marketing")
    code = send_sms(["0912345678"], "驗證碼 1234", kind="transactional")
    assert promo.body == "全館八折 退訂回覆STOP"
    assert code.body == "驗證碼 1234"


def test_an_empty_text_stays_empty_whatever_the_tag(configure: Callable[..., None]) -> None:
    configure(SENDER_TAG=TAG, SENDER_TAG_MODE="prefix", OPT_OUT_FOOTER=" 退訂回覆STOP")
    with pytest.raises(EmptyBodyError):
        send_sms(["0912345678"], "   ")
    assert nothing_stored()


def test_an_unregistered_link_or_number_refuses_before_anything_is_stored(
    configure: Callable[..., None], gateway: Any
) -> None:
    configure(REGISTERED_LINKS=["shop.example.com"], REGISTERED_NUMBERS=["02-2345-6789"])
    with pytest.raises(UnregisteredLinkError):
        send_sms(["0912345678"], "優惠 bit[.]ly/x")
    with pytest.raises(UnregisteredNumberError):
        send_sms(["0912345678"], "請電 0912-345-678", kind="transactional")
    assert nothing_stored()
    assert gateway.messages == []
    send_sms(["0912345678"], "優惠 https://shop.example.com/a 洽 (02)2345-6789")
    assert Message.objects.count() == 1


@pytest.mark.parametrize("zone", ["Asia/Taipei", "UTC", "America/New_York"])
def test_a_marketing_send_in_the_quiet_hours_is_held_through_dlvtime_and_cancellable(
    configure: Callable[..., None],
    gateway: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    zone: str,
) -> None:
    settings.TIME_ZONE = zone  # the window is Taipei's whatever the project's zone
    window, end = quiet_window_around_now()
    configure(QUIET_HOURS=window)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_sms(["0912345678"], "全館八折", kind="marketing")
    message.refresh_from_db()
    assert message.send_at == end
    assert message.reason_code == Reason.QUIET_HOURS
    assert "Held" in message.reason_text
    assert f"{end:%Y-%m-%d %H:%M}" in message.reason_text  # in Taipei time
    assert message.status == Message.Status.SCHEDULED
    (sent,) = gateway.messages
    assert sent.dlvtime == f"{end:%Y/%m/%d %H:%M:%S}"
    assert can_cancel(message)
    cancel_message(message)
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED


def test_transactional_sms_are_never_held(
    configure: Callable[..., None], gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    window, _ = quiet_window_around_now()
    configure(QUIET_HOURS=window)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_sms(["0912345678"], "驗證碼 1234", kind="transactional")
    assert message.send_at is None
    (sent,) = gateway.messages
    assert sent.dlvtime is None


def test_scheduling_into_the_window_is_moved_or_refused(configure: Callable[..., None]) -> None:
    window, end = quiet_window_around_now(minutes=90)
    inside = timezone.now() + timedelta(minutes=30)
    configure(QUIET_HOURS=window, QUIET_HOURS_SCHEDULED="refuse")
    with pytest.raises(QuietHoursError) as caught:
        send_sms(["0912345678"], "全館八折", send_at=inside)
    assert "send_at" in caught.value.rule
    assert nothing_stored()
    configure(QUIET_HOURS=window, QUIET_HOURS_SCHEDULED="move")
    message = send_sms(["0912345678"], "全館八折", send_at=inside)
    assert message.send_at == end
    assert message.reason_params["moved"] is True


def test_a_send_outside_the_window_is_not_held(configure: Callable[..., None]) -> None:
    configure(QUIET_HOURS=quiet_window_elsewhere())
    message = send_sms(["0912345678"], "全館八折")
    assert message.send_at is None
    assert message.reason_code == ""


def test_holding_past_the_expiry_refuses(configure: Callable[..., None]) -> None:
    window, _ = quiet_window_around_now()
    configure(QUIET_HOURS=window)
    with pytest.raises(QuietHoursError):
        send_sms(["0912345678"], "限時", expires_at=timezone.now() + timedelta(minutes=10))
    assert nothing_stored()


def test_the_budget_refuses_a_send_before_storing_with_the_figures(
    configure: Callable[..., None],
) -> None:
    configure(POINTS_BUDGET={"marketing": {"day": 3}})
    send_sms(["0912000001", "0912000002", "0912000003"], "全館八折")
    with pytest.raises(PointsBudgetError) as caught:
        send_sms(["0912000004"], "再八折")
    assert (caught.value.used, caught.value.cap, caught.value.needed) == (3, 3, 1)
    assert Message.objects.count() == 1
    send_sms(["0912000004"], "驗證碼 1234", kind="transactional")  # another kind, no cap


def test_the_budget_of_a_draft_is_checked_when_it_is_queued(
    configure: Callable[..., None],
) -> None:
    configure(POINTS_BUDGET={"marketing": {"day": 2}})
    draft = create_draft(["0912000001", "0912000002"], "全館八折")  # drafts spend nothing
    send_sms(["0912000003"], "別的")
    with pytest.raises(PointsBudgetError):
        queue_message(draft)
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT


def test_several_sends_in_one_transaction_count_each_other(
    configure: Callable[..., None],
) -> None:
    configure(POINTS_BUDGET={"marketing": {"day": 2}})
    with transaction.atomic():
        send_sms(["0912000001", "0912000002"], "一")
        with pytest.raises(PointsBudgetError):
            send_sms(["0912000003"], "二")
    assert Message.objects.count() == 1


def test_estimate_counts_tag_and_footer_and_shows_each_rule(
    configure: Callable[..., None],
) -> None:
    window, end = quiet_window_around_now()
    configure(
        SENDER_TAG=TAG,
        SENDER_TAG_MODE="prefix",
        OPT_OUT_FOOTER=" 退訂回覆STOP",
        REGISTERED_LINKS=[],
        QUIET_HOURS=window,
    )
    result = estimate(["0912345678"], "好" * 60 + " bit.ly/x", kind="marketing")
    assert result.body == TAG + "好" * 60 + " bit.ly/x 退訂回覆STOP"
    assert result.characters == len(result.body)
    assert result.segments == 2
    assert [p["rule"] for p in result.rule_problems] == ["links"]
    assert not result.sendable
    assert result.held
    assert result.send_at == end
    assert len(result.notes) == 3


ALPHABET = st.sampled_from(list("aZ9 .,!?") + list("您好簡訊測試") + ["😀", "Ａ", "\n"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.text(ALPHABET, min_size=1, max_size=340),
    kind=st.sampled_from(["marketing", "transactional"]),
    tag=st.sampled_from(["", TAG, "[Shop]"]),
    footer=st.sampled_from(["", " 退訂回覆STOP", " Reply STOP to opt out"]),
    encoding=st.sampled_from([None, "ASCII", "BIG5", "UCS2", "LUCS2", "LASCI"]),
    count=st.integers(min_value=1, max_value=60),
)
def test_estimate_and_send_agree_with_the_rules_on(
    configure: Callable[..., None],
    body: str,
    kind: str,
    tag: str,
    footer: str,
    encoding: str | None,
    count: int,
) -> None:
    configure(SENDER_TAG=tag, SENDER_TAG_MODE="prefix" if tag else None, OPT_OUT_FOOTER=footer)
    numbers = [f"0912{n:06d}" for n in range(count)]
    result = estimate(numbers, body, encoding=encoding, kind=kind)
    if result.text_error is not None:
        with pytest.raises(SmsgoValidationError):
            plan_send(numbers, body, encoding=encoding, kind=kind)
        return
    plan = plan_send(numbers, body, encoding=encoding, kind=kind)
    assert plan.body == result.body
    assert (result.encoding, result.segments, result.points) == (
        plan.encoding,
        plan.segments,
        plan.estimated_points,
    )


def test_a_draft_queued_in_the_quiet_hours_is_held_then(
    configure: Callable[..., None], gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    draft = create_draft(["0912345678"], "全館八折")  # written while no window applied
    code = create_draft(["0912345678"], "驗證碼 1234", kind="transactional")
    window, end = quiet_window_around_now()
    configure(QUIET_HOURS=window)
    with django_capture_on_commit_callbacks(execute=True):
        queue_message(draft)
        queue_message(code)
    draft.refresh_from_db()
    code.refresh_from_db()
    assert draft.send_at == end
    assert draft.reason_code == Reason.QUIET_HOURS
    assert code.send_at is None
    dlvtimes = sorted((m.body, m.dlvtime or "") for m in gateway.messages)
    assert dlvtimes == [("全館八折", f"{end:%Y/%m/%d %H:%M:%S}"), ("驗證碼 1234", "")]

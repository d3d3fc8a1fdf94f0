"""The carrier rules through the API: a 400 naming the rule, the held send_at, the estimate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from django_smsgo.models import Message

from .conftest import API

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.fixture
def sender(make_user: Any, client_for: Any) -> Any:
    return client_for(make_user("send_sms", username="sender"))


def post(client: Any, capture: Any, data: dict[str, Any], **headers: str) -> Any:
    with capture(execute=True):
        return client.post(f"{API}messages/", data, format="json", headers=headers)


def window_around_now() -> tuple[list[tuple[str, str]], datetime]:
    now = timezone.now().astimezone(TAIPEI)
    end = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    return [(f"{now - timedelta(hours=1):%H:%M}", f"{end:%H:%M}")], end


@pytest.mark.parametrize(
    ("smsgo", "data", "field", "rule", "setting"),
    [
        (
            {"SENDER_TAG": "【好物】", "SENDER_TAG_MODE": "require"},
            {"body": "全館八折"},
            "body",
            "sender_tag",
            "SENDER_TAG",
        ),
        ({"REGISTERED_LINKS": []}, {"body": "看 hxxps://bit[.]ly/x"}, "body", "links", None),
        ({"REGISTERED_NUMBERS": []}, {"body": "撥 0912-345-678"}, "body", "numbers", None),
        (
            {"POINTS_BUDGET": {"marketing": {"day": 0}}},
            {"body": "全館八折"},
            "non_field_errors",
            "points_budget",
            "POINTS_BUDGET",
        ),
    ],
)
def test_a_rule_broken_answers_400_naming_it_and_stores_nothing(
    sender: Any,
    gateway: Any,
    configure: Callable[..., None],
    django_capture_on_commit_callbacks: Any,
    smsgo: dict[str, Any],
    data: dict[str, Any],
    field: str,
    rule: str,
    setting: str | None,
) -> None:
    configure(**smsgo)
    response = post(sender, django_capture_on_commit_callbacks, {"to": ["0912000001"], **data})
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert answer["rule"] == rule
    assert answer["setting"] == (setting or ("REGISTERED_" + rule.upper()))
    assert answer[field]
    assert Message.objects.count() == 0
    assert gateway.messages == []


def test_the_refused_link_is_quoted_as_written(
    sender: Any,
    gateway: Any,
    configure: Callable[..., None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    configure(REGISTERED_LINKS=["shop.example.com"])
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912000001"], "body": "看 hxxps://bit[.]ly/x"},
        **{"Accept-Language": "zh-TW"},
    )
    (detail,) = response.json()["body"]
    assert "hxxps://bit[.]ly/x" in detail
    assert "未登錄" in detail  # in the caller's language


def test_scheduling_into_the_window_refused_names_send_at(
    sender: Any,
    gateway: Any,
    configure: Callable[..., None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    window, _ = window_around_now()
    configure(QUIET_HOURS=window, QUIET_HOURS_SCHEDULED="refuse")
    inside = (timezone.now() + timedelta(minutes=20)).isoformat()
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912000001"], "body": "全館八折", "send_at": inside},
    )
    assert response.status_code == 400
    assert response.json()["rule"] == "quiet_hours"
    assert response.json()["send_at"]


def test_a_held_send_shows_its_send_at_and_why(
    sender: Any,
    gateway: Any,
    configure: Callable[..., None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    window, end = window_around_now()
    configure(QUIET_HOURS=window)
    response = post(
        sender, django_capture_on_commit_callbacks, {"to": ["0912000001"], "body": "全館八折"}
    )
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert parse_datetime(answer["send_at"]) == end
    assert answer["reason_code"] == "quiet_hours"
    assert "quiet hours" in answer["status_reason"]
    detail = sender.get(f"{API}messages/{answer['id']}/").json()
    assert parse_datetime(detail["send_at"]) == end


def test_a_retry_with_the_key_matches_the_text_before_the_rules_shaped_it(
    sender: Any,
    gateway: Any,
    configure: Callable[..., None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    configure(OPT_OUT_FOOTER=" 退訂回覆STOP", SENDER_TAG="【好物】", SENDER_TAG_MODE="prefix")
    data = {"to": ["0912000001"], "body": "全館八折"}
    first = post(sender, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-9"})
    again = post(sender, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-9"})
    assert first.status_code == 201
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.get().body == "【好物】全館八折 退訂回覆STOP"


def test_the_estimate_shows_the_final_text_each_refusal_and_the_hold(
    sender: Any, configure: Callable[..., None]
) -> None:
    window, end = window_around_now()
    configure(QUIET_HOURS=window, OPT_OUT_FOOTER=" 退訂回覆STOP", REGISTERED_LINKS=[])
    response = sender.post(
        f"{API}messages/estimate/",
        {"to": ["0912000001"], "body": "看 bit.ly/x", "kind": "marketing"},
        format="json",
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["body"] == "看 bit.ly/x 退訂回覆STOP"
    assert [p["rule"] for p in answer["rule_problems"]] == ["links"]
    assert answer["rule_problems"][0]["value"] == "bit.ly/x"
    assert answer["held"] is True
    assert parse_datetime(answer["send_at"]) == end
    transactional = sender.post(
        f"{API}messages/estimate/",
        {"to": ["0912000001"], "body": "驗證碼 1234", "kind": "transactional"},
        format="json",
    ).json()
    assert transactional["held"] is False
    assert transactional["body"] == "驗證碼 1234"

"""POST messages/: sending through the API, with the validation and guards of send_sms()."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.models import BalanceSnapshot, Message

from .conftest import API

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


@pytest.fixture
def sender(make_user: Any, client_for: Any) -> Any:
    return client_for(make_user("send_sms", username="sender"))


def post(client: Any, capture: Any, data: dict[str, Any], **headers: str) -> Any:
    """POST messages/ and run what waits for the commit (dispatch), as a real request would."""
    with capture(execute=True):
        return client.post(f"{API}messages/", data, format="json", headers=headers)


def test_a_send_answers_201_with_message_recipients_and_points(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912-345-678", "+886 987 654 321"], "body": "Your order has shipped."},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    message = Message.objects.get()
    assert body["id"] == message.pk
    assert response["Location"] == f"/smsgo/api/messages/{message.pk}/"
    assert body["estimated_points"] == 2
    assert body["recipient_count"] == 2
    assert [r["phone"] for r in body["recipients"]["results"]] == ["0912345678", "0987654321"]
    assert message.created_by is not None
    assert message.created_by.username == "sender"
    # Dispatch ran after the commit: one request reached the gateway with both numbers.
    assert [sorted(m.receivers) for m in gateway.messages] == [["0912345678", "0987654321"]]


def test_every_bad_number_is_named_and_nothing_is_stored(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912345678", "0912", "12ab", "+44 20 7946 0000"], "body": "Hi"},
    )

    assert response.status_code == 400
    errors = response.json()["to"]
    assert len(errors) == 3
    assert errors[0].startswith("'0912': ")
    assert errors[1].startswith("'12ab': ")
    assert errors[2].startswith("'+44 20 7946 0000': ")
    assert Message.objects.count() == 0
    assert gateway.messages == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "Hi"}, "to"),
        ({"to": [], "body": "Hi"}, "to"),
        ({"to": "0912345678", "body": "Hi"}, "to"),
        ({"to": ["0912345678"]}, "body"),
        ({"to": ["0912345678"], "body": ""}, "body"),
        ({"to": ["0912345678"], "body": "   "}, "body"),
        ({"to": ["0912345678"], "body": "您好" * 40, "encoding": "BIG5"}, "body"),
        ({"to": ["0912345678"], "body": "您好", "encoding": "ASCII"}, "body"),
        ({"to": ["0912345678"], "body": "x" * 331}, "body"),
        ({"to": ["0912345678"], "body": "Hi", "encoding": "KLINGON"}, "encoding"),
        ({"to": ["0912345678"], "body": "Hi", "reply_days": 31}, "reply_days"),
        ({"to": ["0912345678"], "body": "Hi", "priority": "urgent"}, "priority"),
        ({"to": ["0912345678"], "body": "Hi", "send_at": "tomorrow"}, "send_at"),
        ({"to": ["0912345678"], "body": "Hi", "send_at": "2001-01-01T00:00:00+08:00"}, "send_at"),
        (
            {"to": ["0912345678"], "body": "Hi", "encoding": "ASCII", "wap_url": "http://x.tw/"},
            "wap_url",
        ),
        ({"to": ["0912345678"], "body": "Hi", "reply_days": 3}, "reply_days"),
        ({"to": ["0912345678"], "body": "Hi", "reply": True}, "reply"),
        ({"to": ["+8613681912700"], "body": "Hi", "encoding": "LASCI"}, "to"),
        (
            {"to": ["0912345678"], "body": "Hi", "expires_at": "2001-01-01T00:00:00+08:00"},
            "expires_at",
        ),
        ({"to": ["0912345678"], "body": "Hi", "encoding": "PUSH"}, "wap_url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    sender: Any,
    gateway: Any,
    django_capture_on_commit_callbacks: Any,
    data: dict[str, Any],
    field: str,
) -> None:
    response = post(sender, django_capture_on_commit_callbacks, data)

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Message.objects.count() == 0
    assert gateway.messages == []


def test_the_recipient_limit_applies(
    sender: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMSGO = {**settings.SMSGO, "API_MAX_RECIPIENTS": 2}
    numbers = ["0912345671", "0912345672", "0912345673"]

    response = post(sender, django_capture_on_commit_callbacks, {"to": numbers, "body": "Hi"})

    assert response.status_code == 400
    assert "at most 2" in response.json()["to"][0]


def test_sending_needs_the_send_permission(
    make_user: Any, client_for: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    viewer = client_for(make_user("view_message", "cancel_sms", staff=True))
    data = {"to": ["0912345678"], "body": "Hi"}

    assert post(viewer, django_capture_on_commit_callbacks, data).status_code == 403
    assert post(client_for(None), django_capture_on_commit_callbacks, data).status_code in (
        401,
        403,
    )
    assert Message.objects.count() == 0


def test_a_scheduled_send_carries_the_schedule(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    send_at = timezone.now() + dt.timedelta(hours=2)

    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912345678"], "body": "Later", "send_at": send_at.isoformat()},
    )

    assert response.status_code == 201
    message = Message.objects.get()
    assert message.send_at == send_at
    assert message.status == Message.Status.SCHEDULED
    assert gateway.messages[0].due_at == pytest.approx(send_at.timestamp(), abs=1)


# --------------------------------------------------------------------------- idempotency


def test_the_idempotency_header_returns_the_first_message_and_sends_once(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = {"to": ["0912345678"], "body": "Your code is 1234"}

    first = post(sender, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-1"})
    again = post(sender, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-1"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.get().idempotency_key == "k-1"
    assert len(gateway.messages) == 1


def test_the_idempotency_key_field_does_the_same(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = {"to": ["0912345678"], "body": "Your code is 1234", "idempotency_key": "k-2"}

    first = post(sender, django_capture_on_commit_callbacks, data)
    # The same key in the header is the same key.
    again = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912345678"], "body": "Your code is 1234"},
        **{"Idempotency-Key": "k-2"},
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(gateway.messages) == 1


def test_header_and_field_must_agree(sender: Any, django_capture_on_commit_callbacks: Any) -> None:
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912345678"], "body": "Hi", "idempotency_key": "a"},
        **{"Idempotency-Key": "b"},
    )

    assert response.status_code == 400
    assert "idempotency_key" in response.json()
    assert Message.objects.count() == 0


def test_a_key_reused_with_another_text_is_a_conflict(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    headers = {"Idempotency-Key": "k-3"}
    post(sender, django_capture_on_commit_callbacks, {"to": ["0912345678"], "body": "A"}, **headers)

    response = post(
        sender, django_capture_on_commit_callbacks, {"to": ["0912345678"], "body": "B"}, **headers
    )

    assert response.status_code == 409
    assert "different text" in response.json()["idempotency_key"][0]
    assert len(gateway.messages) == 1


def test_another_users_key_reveals_nothing(
    sender: Any,
    make_user: Any,
    client_for: Any,
    gateway: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = {"to": ["0912345678"], "body": "Secret text"}
    post(sender, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-4"})
    other = client_for(make_user("send_sms"))

    response = post(other, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-4"})

    assert response.status_code == 409
    assert "Secret text" not in response.content.decode()
    assert len(gateway.messages) == 1


def test_an_overlong_idempotency_header_is_refused(
    sender: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912345678"], "body": "Hi"},
        **{"Idempotency-Key": "k" * 256},
    )

    assert response.status_code == 400
    assert "255" in response.json()["idempotency_key"][0]


# --------------------------------------------------------------------------- guards


def test_the_duplicate_guard_is_a_conflict_naming_the_numbers(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = {"to": ["0912345678", "0987654321"], "body": "Sale today"}
    post(sender, django_capture_on_commit_callbacks, data)

    again = post(sender, django_capture_on_commit_callbacks, data)
    forced = post(sender, django_capture_on_commit_callbacks, {**data, "allow_duplicate": True})

    assert again.status_code == 409
    assert again.json()["numbers"] == ["0912345678", "0987654321"]
    assert forced.status_code == 201
    assert len(gateway.messages) == 2


def test_a_send_the_balance_cannot_pay_is_refused_with_402(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    BalanceSnapshot.objects.create(points=1)

    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"to": ["0912345678", "0987654321"], "body": "Hi"},
    )

    assert response.status_code == 402
    assert (response.json()["needed"], response.json()["balance"]) == (2, 1)
    assert Message.objects.count() == 0
    assert gateway.messages == []


# --------------------------------------------------------------------------- throttling


def test_sending_is_throttled_at_the_configured_rate(
    sender: Any, gateway: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMSGO = {**settings.SMSGO, "API_SEND_THROTTLE_RATE": "2/min"}
    answers = [
        post(
            sender,
            django_capture_on_commit_callbacks,
            {"to": ["0912345678"], "body": f"Text {n}"},
        )
        for n in range(3)
    ]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[2]["Retry-After"]) > 0
    assert len(gateway.messages) == 2
    # Reading is not throttled by the send limit.
    assert sender.get(f"{API}messages/").status_code == 200


def test_drf_throttle_rates_setting_wins(
    sender: Any, gateway: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.REST_FRAMEWORK = {"DEFAULT_THROTTLE_RATES": {"smsgo_send": "1/min"}}
    answers = [
        post(sender, django_capture_on_commit_callbacks, {"to": ["0912345678"], "body": f"T{n}"})
        for n in range(2)
    ]

    assert [a.status_code for a in answers] == [201, 429]


def test_the_default_send_rate_is_60_a_minute() -> None:
    from django_smsgo.api.throttling import SendRateThrottle

    assert SendRateThrottle().get_rate() == "60/min"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"to": [912345678], "body": "Hi"}, "to"),
        ({"to": ["0912345678"], "body": 5}, "body"),
        ({"to": ["0912345678"], "body": "Hi", "reply": "yes"}, "reply"),
        ({"to": ["0912345678"], "body": "Hi", "allow_duplicate": 1}, "allow_duplicate"),
        ({"to": ["0912345678"], "body": "Hi", "reply_days": "3"}, "reply_days"),
        ({"to": ["0912345678"], "body": "Hi", "wap_url": 0}, "wap_url"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(
    sender: Any, django_capture_on_commit_callbacks: Any, data: dict[str, Any], field: str
) -> None:
    response = post(sender, django_capture_on_commit_callbacks, data)

    assert response.status_code == 400
    assert field in response.json()
    assert Message.objects.count() == 0


def test_the_api_speaks_json_only(sender: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = sender.post(f"{API}messages/", {"to": "0912345678", "body": "Hi"})

    assert response.status_code == 415
    assert Message.objects.count() == 0


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_json_is_a_400(sender: Any, depth: int) -> None:
    for path in ("messages/", "messages/estimate/"):
        body = "[" * depth + "]" * depth
        response = sender.post(f"{API}{path}", body, content_type="application/json")
        assert response.status_code == 400
        assert "nested deeper" in response.json()["detail"]
    assert Message.objects.count() == 0

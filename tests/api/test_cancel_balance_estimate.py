"""POST messages/{id}/cancel/, GET balance/ and POST messages/estimate/."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.models import BalanceSnapshot, Message, Recipient

from .conftest import API
from .factories import stored_message

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


@pytest.fixture
def operator(make_user: Any) -> Any:
    return make_user("send_sms", "cancel_sms", username="operator")


def schedule(client: Any, capture: Any, numbers: list[str], hours: int = 2) -> int:
    send_at = timezone.now() + dt.timedelta(hours=hours)
    with capture(execute=True):
        response = client.post(
            f"{API}messages/",
            {"to": numbers, "body": "Reminder", "send_at": send_at.isoformat()},
            format="json",
        )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


# --------------------------------------------------------------------------- cancel


def test_cancelling_a_scheduled_message_reports_each_recipient(
    operator: Any, client_for: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(operator)
    pk = schedule(client, django_capture_on_commit_callbacks, ["0912345678", "0987654321"])
    points_before = gateway.balance("tester")

    response = client.post(f"{API}messages/{pk}/cancel/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["partial"] is False
    assert body["message"]["status"] == "cancelled"
    assert body["recipients"] == [
        {"phone": "0912345678", "result": "cancelled"},
        {"phone": "0987654321", "result": "cancelled"},
    ]
    assert [b["cancelled"] for b in body["batches"]] == [True]
    assert set(Recipient.objects.values_list("status", flat=True)) == {"cancelled"}
    # The gateway refunded the points: it really cancelled.
    assert gateway.balance("tester") == points_before + 2


def test_a_message_that_was_sent_cannot_be_cancelled(
    operator: Any, client_for: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(operator)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"{API}messages/", {"to": ["0912345678"], "body": "Now"}, format="json"
        )

    response = client.post(f"{API}messages/{created.json()['id']}/cancel/")

    assert response.status_code == 409
    assert "cannot be cancelled" in response.json()["detail"]


def test_a_cancelled_message_cannot_be_cancelled_again(
    operator: Any, client_for: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(operator)
    pk = schedule(client, django_capture_on_commit_callbacks, ["0912345678"])
    client.post(f"{API}messages/{pk}/cancel/")

    assert client.post(f"{API}messages/{pk}/cancel/").status_code == 409


def test_cancelling_needs_the_cancel_permission(make_user: Any, client_for: Any) -> None:
    sender = make_user("send_sms")
    message = stored_message("0912345678", created_by=sender, status=Message.Status.QUEUED)

    response = client_for(sender).post(f"{API}messages/{message.pk}/cancel/")

    assert response.status_code == 403
    assert Message.objects.get().status == Message.Status.QUEUED


def test_cancelling_someone_elses_message_is_not_found(
    operator: Any, make_user: Any, client_for: Any
) -> None:
    message = stored_message("0912345678", created_by=make_user(), status=Message.Status.QUEUED)

    assert client_for(operator).post(f"{API}messages/{message.pk}/cancel/").status_code == 404


# --------------------------------------------------------------------------- balance


def test_the_balance_before_it_was_ever_asked_is_null(operator: Any, client_for: Any) -> None:
    body = client_for(operator).get(f"{API}balance/").json()

    assert body == {"points": None, "checked_at": None, "low": None}


def test_the_balance_is_the_last_snapshot(operator: Any, client_for: Any, settings: Any) -> None:
    BalanceSnapshot.objects.create(points=5000)
    BalanceSnapshot.objects.create(points=42)

    body = client_for(operator).get(f"{API}balance/").json()

    assert body["points"] == 42
    assert body["low"] is True  # below LOW_BALANCE_THRESHOLD (100)


def test_refresh_asks_the_gateway_and_stores_the_answer(
    operator: Any, client_for: Any, gateway: Any
) -> None:
    gateway.add_account("tester", "s3cret-Pa55word", 6220)

    body = client_for(operator).get(f"{API}balance/", {"refresh": "1"}).json()

    assert body["points"] == 6220
    assert body["low"] is False
    assert BalanceSnapshot.objects.get().points == 6220


def test_a_gateway_that_cannot_be_reached_is_a_502_without_secrets(
    operator: Any, client_for: Any, settings: Any
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://127.0.0.1:{port}/sms_gw/"
    settings.SMSGO = {**settings.SMSGO, "API_URL": url, "BACKUP_API_URL": url}

    response = client_for(operator).get(f"{API}balance/?refresh=1")

    assert response.status_code == 502
    assert "could not be asked" in response.json()["detail"]
    assert "s3cret-Pa55word" not in response.content.decode()
    assert BalanceSnapshot.objects.count() == 0


def test_refresh_must_be_a_boolean(operator: Any, client_for: Any) -> None:
    response = client_for(operator).get(f"{API}balance/?refresh=maybe")

    assert response.status_code == 400
    assert "'maybe'" in response.json()["refresh"][0]


def test_the_balance_view_permission_is_enough(make_user: Any, client_for: Any) -> None:
    BalanceSnapshot.objects.create(points=7)
    viewer = make_user("view_balancesnapshot")

    assert client_for(viewer).get(f"{API}balance/").json()["points"] == 7


# --------------------------------------------------------------------------- estimate


def test_estimate_answers_segments_and_points_and_stores_nothing(
    operator: Any, client_for: Any
) -> None:
    response = client_for(operator).post(
        f"{API}messages/estimate/",
        {"to": ["0912345678", "0987654321", "0912"], "body": "您好" * 40, "reply": True},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "encoding": "LBIG5",
        "characters": 80,
        "segments": 2,
        "valid_numbers": 2,
        "invalid_numbers": [
            {
                "value": "0912",
                "reason": "a Taiwanese mobile number is 09 followed by 8 digits (10 digits)",
            }
        ],
        "points": 4 + 1,
        "text_error": None,
        "body": "您好" * 40,
        "rule_problems": [],
        "send_at": None,
        "held": False,
        "notes": [],
    }
    assert Message.objects.count() == 0


def test_estimate_reports_a_text_that_cannot_be_sent(operator: Any, client_for: Any) -> None:
    response = client_for(operator).post(
        f"{API}messages/estimate/",
        {"to": ["0912345678"], "body": "您好", "encoding": "ASCII"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["points"] == 0
    assert "ASCII" in response.json()["text_error"]


def test_estimate_needs_the_send_permission(make_user: Any, client_for: Any) -> None:
    viewer = client_for(make_user("view_message", staff=True))

    response = viewer.post(
        f"{API}messages/estimate/", {"to": ["0912345678"], "body": "Hi"}, format="json"
    )

    assert response.status_code == 403


def test_estimate_checks_the_shape_of_its_input(operator: Any, client_for: Any) -> None:
    response = client_for(operator).post(
        f"{API}messages/estimate/", {"to": "0912345678", "reply": "perhaps"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"to", "body", "reply"}

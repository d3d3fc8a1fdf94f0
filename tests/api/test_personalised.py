"""POST messages/personalised/: a text with placeholders, values per recipient, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from django_smsgo.models import Message

from .conftest import API

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]

URL = f"{API}messages/personalised/"
TEXT = "{name}您好，您的取貨碼是 {code}"


@pytest.fixture
def sender(make_user: Any, client_for: Any) -> Any:
    return client_for(make_user("send_sms", username="sender"))


def post(client: Any, capture: Any, data: dict[str, Any], **headers: str) -> Any:
    with capture(execute=True):
        return client.post(URL, data, format="json", headers=headers)


def customers(count: int) -> list[dict[str, Any]]:
    return [
        {"to": f"09{n:08d}", "values": {"name": ("王先生", "林小姐")[n % 2], "code": "A1"}}
        for n in range(count)
    ]


def test_recipients_with_the_same_text_share_a_message_and_its_requests(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"body": TEXT, "kind": "transactional", "recipients": customers(120)},
    )
    assert response.status_code == 201, response.json()
    answer = response.json()["messages"]
    assert [(m["body"], m["recipient_count"]) for m in answer] == [
        ("王先生您好，您的取貨碼是 A1", 60),
        ("林小姐您好，您的取貨碼是 A1", 60),
    ]
    sizes = sorted((m.body, len(m.receivers)) for m in gateway.messages)
    assert sizes == [
        ("林小姐您好，您的取貨碼是 A1", 10),
        ("林小姐您好，您的取貨碼是 A1", 50),
        ("王先生您好，您的取貨碼是 A1", 10),
        ("王先生您好，您的取貨碼是 A1", 50),
    ]


def test_a_missing_value_is_named_and_nothing_is_stored(
    sender: Any, django_capture_on_commit_callbacks: Any
) -> None:
    recipients = [*customers(3), {"to": "0922333444", "values": {"name": "陳小姐"}}]
    response = post(
        sender, django_capture_on_commit_callbacks, {"body": TEXT, "recipients": recipients}
    )
    assert response.status_code == 400
    answer = response.json()
    assert answer["rule"] == "missing_placeholder_value"
    assert answer["placeholder"] == "code"
    assert answer["numbers"] == ["0922333444"]
    assert "{code}" in answer["recipients"][0]
    assert not Message.objects.exists()


def test_an_unknown_placeholder_is_named_in_the_request_language(
    sender: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = post(
        sender,
        django_capture_on_commit_callbacks,
        {"body": "{nmae}您好", "recipients": customers(2)},
        **{"Accept-Language": "zh-TW"},
    )
    assert response.status_code == 400
    answer = response.json()
    assert answer["rule"] == "unknown_placeholder"
    assert answer["placeholder"] == "nmae"
    assert "佔位符 {nmae}" in answer["body"][0]
    assert not Message.objects.exists()


def test_bad_numbers_are_named_under_recipients(
    sender: Any, django_capture_on_commit_callbacks: Any
) -> None:
    recipients = [*customers(2), {"to": "12345", "values": {"name": "A", "code": "B"}}]
    response = post(
        sender, django_capture_on_commit_callbacks, {"body": TEXT, "recipients": recipients}
    )
    assert response.status_code == 400
    assert "12345" in response.json()["recipients"][0]
    assert not Message.objects.exists()


def test_the_same_key_returns_the_first_messages(
    sender: Any, gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = {"body": TEXT, "kind": "transactional", "recipients": customers(4)}
    first = post(sender, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-1"})
    again = post(sender, django_capture_on_commit_callbacks, data, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert [m["id"] for m in again.json()["messages"]] == [
        m["id"] for m in first.json()["messages"]
    ]
    assert len(gateway.messages) == 2


def test_sending_needs_the_send_permission(make_user: Any, client_for: Any) -> None:
    viewer = client_for(make_user("view_message"))
    response = viewer.post(URL, {"body": TEXT, "recipients": customers(1)}, format="json")
    assert response.status_code == 403

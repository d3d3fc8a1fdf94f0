"""The API stores metadata and tags, filters by them, and reports a cancelled send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_smsgo.exceptions import SmsgoCancelSend
from django_smsgo.models import Message
from django_smsgo.signals import pre_send

from .conftest import API
from .factories import stored_message

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


@pytest.fixture
def staff(make_user: Any, client_for: Any) -> Any:
    return client_for(make_user("send_sms", "view_message", staff=True))


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_a_send_stores_metadata_and_tags(staff: Any, gateway: Any) -> None:
    response = staff.post(
        f"{API}messages/",
        {"to": ["0912345678"], "body": "Hi", "metadata": {"order": 42}, "tags": ["order"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["metadata"], response.json()["tags"]) == ({"order": 42}, ["order"])
    assert Message.objects.get().metadata == {"order": 42}


@pytest.mark.parametrize(
    "extra",
    [{"metadata": ["x"]}, {"tags": "x"}, {"tags": ["x" * 65]}, {"metadata": {"x": "\u0000"}}],
)
def test_bad_metadata_or_tags_answer_400(staff: Any, gateway: Any, extra: dict[str, Any]) -> None:
    response = staff.post(
        f"{API}messages/", {"to": ["0912345678"], "body": "Hi", **extra}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert not Message.objects.exists()


def test_the_list_filters_by_tag_and_metadata(staff: Any) -> None:
    first = stored_message("0912345678", tags=["order", "tw"], metadata={"order": 7, "shop": "a"})
    second = stored_message("0912345679", tags=["order"], metadata={"order": "8"})
    stored_message("0912345670")
    assert ids(staff.get(f"{API}messages/?tag=order")) == [second.pk, first.pk]
    assert ids(staff.get(f"{API}messages/?tag=tw")) == [first.pk]
    assert ids(staff.get(f"{API}messages/?metadata=order:7")) == [first.pk]
    assert ids(staff.get(f"{API}messages/?metadata=order:8")) == [second.pk]
    assert ids(staff.get(f"{API}messages/?metadata=order:7&metadata=shop:a")) == [first.pk]
    # A key that spells a lookup is still a key.
    assert ids(staff.get(f"{API}messages/?metadata=contains:7")) == []
    bad = staff.get(f"{API}messages/?metadata=no-colon")
    assert bad.status_code == 400
    assert "key:value" in str(bad.json())


@pytest.fixture
def cancelling() -> Iterator[None]:
    def cancel(**kwargs: Any) -> None:
        raise SmsgoCancelSend("quiet hours")

    pre_send.connect(cancel, weak=False)
    yield
    pre_send.disconnect(cancel)


def test_a_send_a_receiver_cancels_answers_409(staff: Any, gateway: Any, cancelling: None) -> None:
    response = staff.post(f"{API}messages/", {"to": ["0912345678"], "body": "Hi"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "quiet hours", "cancelled": True}
    assert not Message.objects.exists()

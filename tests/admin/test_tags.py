"""The change list filters messages by tag."""

from __future__ import annotations

from typing import Any

from django_smsgo.testing.factories import MessageFactory
from tests.admin.conftest import CHANGELIST


def test_the_change_list_offers_the_tags_and_filters_by_one(client_as: Any, sender: Any) -> None:
    tagged = MessageFactory(recipients=1, tags=["campaign-may", "vip"])
    MessageFactory(recipients=1, tags=["campaign-june"])
    client = client_as(sender)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "?tag=campaign-may" in text
    assert "?tag=vip" in text
    filtered = client.get(f"{CHANGELIST}?tag=vip")
    assert list(filtered.context["cl"].result_list) == [tagged]

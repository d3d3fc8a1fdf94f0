"""The message list can be narrowed to one kind of message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_smsgo.models import Message
from tests.admin.conftest import CHANGELIST

pytestmark = pytest.mark.django_db


def test_messages_can_be_filtered_by_kind(
    sender: User, client_as: Callable[[User], Client], make_message: Callable[..., Message]
) -> None:
    promo = make_message(1, body="promo", kind="marketing")
    code = make_message(1, body="code", kind="transactional")
    client = client_as(sender)
    page = client.get(CHANGELIST, {"kind__exact": "transactional"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [code]
    assert promo not in page.context["cl"].result_list
    assert "By kind" in client.get(CHANGELIST).content.decode()

"""django-allauth's phone sign-up and login views send their texts through the adapter mixin."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("allauth")

from django.contrib.auth.models import User
from django.test import Client

from django_smsgo.models import Message
from django_smsgo.simulator.instance import Simulator
from tests.integrations.allauth_adapter import PhoneAccountAdapter

from .conftest import texts

pytestmark = [pytest.mark.urls("tests.integrations.urls"), pytest.mark.django_db(transaction=True)]

PHONE = "+886912345678"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


def code_of(simulator: Simulator) -> str:
    """The code of the last text (allauth's codes look like ``KVSF-QZCS``)."""
    body = texts(simulator)[-1][1]
    found = re.search(r"code is ([0-9A-Z-]+),", body)
    assert found, body
    return found.group(1)


def test_signing_up_by_phone_texts_a_code_that_verifies_the_number(
    sms_gateway: Simulator, sender_tag: str
) -> None:
    client = Client()
    page = client.post("/accounts/signup/", {"phone": PHONE})
    assert page.status_code == 302, page.content.decode()[:2000]
    [(receivers, body)] = texts(sms_gateway)
    assert receivers == ["0912345678"]
    assert body.startswith(sender_tag)
    message = Message.objects.get()
    assert (message.kind, message.priority) == ("transactional", "high")
    assert 899 <= (message.expires_at - message.created_at).total_seconds() <= 901
    done = client.post("/accounts/phone/verify/", {"code": code_of(sms_gateway)})
    assert done.status_code == 302, done.content.decode()[:2000]
    user = User.objects.get()
    assert PhoneAccountAdapter().get_phone(user) == (PHONE, True)


def test_logging_in_by_phone_texts_a_login_code(sms_gateway: Simulator) -> None:
    User.objects.create_user("mei", first_name=PHONE, last_name="verified")
    client = Client()
    page = client.post("/accounts/login/", {"login": PHONE})
    assert page.status_code == 302, page.content.decode()[:2000]
    [(receivers, _)] = texts(sms_gateway)
    assert receivers == ["0912345678"]
    message = Message.objects.get()
    assert 179 <= (message.expires_at - message.created_at).total_seconds() <= 181
    done = client.post(page["Location"], {"code": code_of(sms_gateway)})
    assert done.status_code == 302, done.content.decode()[:2000]
    assert client.session["_auth_user_id"] == str(User.objects.get().pk)


def test_an_unknown_number_is_told_no_account_uses_it(sms_gateway: Simulator) -> None:
    Client().post("/accounts/login/", {"login": PHONE})
    [(_, body)] = texts(sms_gateway)
    assert "no account uses it" in body


def test_signing_up_with_a_known_number_tells_its_owner(sms_gateway: Simulator) -> None:
    User.objects.create_user("mei", first_name=PHONE, last_name="verified")
    Client().post("/accounts/signup/", {"phone": PHONE})
    [(receivers, body)] = texts(sms_gateway)
    assert receivers == ["0912345678"]
    assert "already has an account" in body


def test_each_text_can_be_switched_off(sms_gateway: Simulator, monkeypatch: Any) -> None:
    monkeypatch.setattr(PhoneAccountAdapter, "smsgo_send_unknown_account", False)
    monkeypatch.setattr(PhoneAccountAdapter, "smsgo_send_account_already_exists", False)
    Client().post("/accounts/login/", {"login": PHONE})
    User.objects.create_user("mei", first_name="+886912345679", last_name="verified")
    Client().post("/accounts/signup/", {"phone": "+886912345679"})
    assert texts(sms_gateway) == []
    assert not Message.objects.exists()


def test_a_number_the_gateway_cannot_text_is_refused_on_the_form(sms_gateway: Simulator) -> None:
    page = Client().post("/accounts/signup/", {"phone": "+886223456789"})
    assert page.status_code == 200
    assert "mobile" in page.content.decode()
    assert not User.objects.exists()

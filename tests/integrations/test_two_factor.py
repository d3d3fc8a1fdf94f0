"""django-two-factor-auth's own views send their tokens through SmsgoGateway."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("two_factor")

from django.contrib.auth.models import User
from django.test import Client
from two_factor.plugins.phonenumber.models import PhoneDevice

from django_smsgo.integrations.two_factor import ChallengeNotSent, SmsgoGateway
from django_smsgo.models import Message
from django_smsgo.simulator.instance import Simulator

from .conftest import texts, token_in

pytestmark = [pytest.mark.urls("tests.integrations.urls"), pytest.mark.django_db(transaction=True)]

SETUP = "/account/two_factor/setup/"
LOGIN = "/account/login/"


def step(client: Client, url: str, wizard: str, name: str, **fields: str) -> Any:
    data = {f"{wizard}-current_step": name, **{f"{name}-{k}": v for k, v in fields.items()}}
    return client.post(url, data)


@pytest.fixture
def user() -> User:
    return User.objects.create_user("mei", password="pw-not-secret-1234")


def test_the_setup_wizard_texts_the_token_and_confirms_the_phone(
    user: User, sms_gateway: Simulator, sender_tag: str
) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(SETUP).status_code == 200
    step(client, SETUP, "setup_view", "welcome")
    step(client, SETUP, "setup_view", "method", method="sms")
    page = step(client, SETUP, "setup_view", "sms", number="+886912345678")
    assert page.context["challenge_succeeded"] is True
    [(receivers, body)] = texts(sms_gateway)
    assert receivers == ["0912345678"]
    assert body.startswith(sender_tag)
    message = Message.objects.get()
    assert (message.kind, message.priority) == ("transactional", "high")
    assert message.expires_at is not None
    assert 149 <= (message.expires_at - message.created_at).total_seconds() <= 151
    done = step(client, SETUP, "setup_view", "validation", token=token_in(body))
    assert done.status_code == 302
    device = PhoneDevice.objects.get(user=user)
    assert (str(device.number), device.method) == ("+886912345678", "sms")


def test_a_refused_send_is_reported_as_a_failed_challenge(
    user: User, sms_gateway: Simulator
) -> None:
    sms_gateway.state.accounts["tester"].points = 0  # the gateway answers -8
    client = Client()
    client.force_login(user)
    step(client, SETUP, "setup_view", "welcome")
    step(client, SETUP, "setup_view", "method", method="sms")
    page = step(client, SETUP, "setup_view", "sms", number="+886912345678")
    assert page.context["challenge_succeeded"] is False
    assert Message.objects.get().status == Message.Status.FAILED
    assert texts(sms_gateway) == []


def test_a_two_factor_login_by_sms(user: User, sms_gateway: Simulator) -> None:
    PhoneDevice.objects.create(user=user, name="default", number="+886912345678", method="sms")
    client = Client()
    page = step(client, LOGIN, "login_view", "auth", username="mei", password="pw-not-secret-1234")
    assert page.status_code == 200
    [(receivers, body)] = texts(sms_gateway)
    assert receivers == ["0912345678"]
    done = step(client, LOGIN, "login_view", "token", otp_token=token_in(body))
    assert done.status_code == 302
    assert client.get("/account/two_factor/").context["user"] == user


def test_the_gateway_is_built_without_arguments_and_makes_no_calls(
    user: User, sms_gateway: Simulator
) -> None:
    device = PhoneDevice(user=user, name="default", number="+886912345678", method="call")
    with pytest.raises(NotImplementedError, match="SMS only"):
        SmsgoGateway().make_call(device=device, token="123456")


def test_a_bad_number_raises_at_once(user: User, sms_gateway: Simulator) -> None:
    from django_smsgo.exceptions import InvalidNumberError

    device = PhoneDevice(user=user, name="default", number="+886 2 2345 6789", method="sms")
    with pytest.raises(InvalidNumberError):
        SmsgoGateway().send_sms(device=device, token="123456")
    assert issubclass(ChallengeNotSent, Exception)

"""django-otp: SmsgoDevice through django-otp's own form and API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("django_otp")

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django_otp import devices_for_user, user_has_device
from django_otp.forms import OTPTokenForm

from django_smsgo.integrations.otp.models import SmsgoDevice
from django_smsgo.models import Message
from django_smsgo.simulator.instance import Simulator

from .conftest import texts, token_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(db: None) -> SmsgoDevice:
    user = User.objects.create_user("mei", password="pw-not-secret-1234")
    return SmsgoDevice.objects.create(user=user, name="phone", number="0912345678")


def challenge(device: SmsgoDevice, capture: Any) -> str:
    with capture(execute=True):
        return device.generate_challenge()


def test_the_token_form_sends_a_challenge_and_accepts_the_token(
    device: SmsgoDevice,
    sms_gateway: Simulator,
    sender_tag: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert user_has_device(device.user)
    assert list(devices_for_user(device.user)) == [device]
    ask = OTPTokenForm(device.user, data={"otp_device": device.persistent_id, "otp_challenge": "1"})
    with django_capture_on_commit_callbacks(execute=True):
        assert not ask.is_valid()
    assert "Sent by SMS" in str(ask.errors)
    [(receivers, body)] = texts(sms_gateway)
    assert receivers == ["0912345678"]
    assert body.startswith(sender_tag)
    answer = OTPTokenForm(
        device.user, data={"otp_device": device.persistent_id, "otp_token": token_in(body)}
    )
    assert answer.is_valid(), answer.errors
    assert device.user.otp_device == device


def test_the_sms_is_transactional_urgent_and_lives_as_long_as_the_token(
    device: SmsgoDevice, sms_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    assert challenge(device, django_capture_on_commit_callbacks) == "Sent by SMS"
    device.refresh_from_db()
    message = Message.objects.get()
    assert (message.kind, message.priority) == ("transactional", "high")
    assert message.expires_at == device.valid_until
    # django-otp's own default for side-channel tokens, not otp_twilio's 30 s.
    lifetime = (device.valid_until - device.last_generated_timestamp).total_seconds()
    assert 299 <= lifetime <= 301


def test_the_cooldown_holds_back_a_second_challenge(
    device: SmsgoDevice, sms_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    challenge(device, django_capture_on_commit_callbacks)
    again = challenge(device, django_capture_on_commit_callbacks)
    assert "ask again in" in again
    assert len(texts(sms_gateway)) == 1


def test_the_throttle_refuses_even_the_right_token_after_a_wrong_one(
    device: SmsgoDevice,
    sms_gateway: Simulator,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.OTP_SMSGO_THROTTLE_FACTOR = 600
    challenge(device, django_capture_on_commit_callbacks)
    token = token_in(texts(sms_gateway)[0][1])
    wrong = "000000" if token != "000000" else "111111"
    assert device.verify_token(wrong) is False
    assert device.verify_token(token) is False
    allowed, data = device.verify_is_allowed()
    assert allowed is False
    assert data["failure_count"] == 1


def test_a_token_is_accepted_once(
    device: SmsgoDevice, sms_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    challenge(device, django_capture_on_commit_callbacks)
    token = token_in(texts(sms_gateway)[0][1])
    assert device.verify_token(token) is True
    assert device.verify_token(token) is False


def test_no_delivery_logs_the_token_instead(
    device: SmsgoDevice,
    sms_gateway: Simulator,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.OTP_SMSGO_NO_DELIVERY = True
    with caplog.at_level(logging.INFO, logger="django_smsgo.integrations.otp.models"):
        challenge(device, django_capture_on_commit_callbacks)
    device.refresh_from_db()
    assert device.token
    assert device.token in caplog.text
    assert texts(sms_gateway) == []
    assert not Message.objects.exists()


def test_a_project_template_and_a_bad_number(
    device: SmsgoDevice,
    sms_gateway: Simulator,
    settings: Any,
    configure: Callable[..., None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.OTP_SMSGO_TOKEN_TEMPLATE = "Code: {token}"
    challenge(device, django_capture_on_commit_callbacks)
    assert texts(sms_gateway)[0][1].startswith("Code: ")
    device.number = "12345"
    with pytest.raises(ValidationError, match="12345"):
        device.full_clean()
    device.number = "+886 912-345-679"
    device.full_clean()
    assert device.number == "0912345679"

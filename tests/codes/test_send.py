"""send_otp(): one transactional SMS at the highest priority, the code stored only hashed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from django_smsgo.codes import send_otp
from django_smsgo.codes.models import OneTimeCode
from django_smsgo.exceptions import InvalidNumberError
from django_smsgo.models import Message
from django_smsgo.simulator.instance import Simulator

from .conftest import code_in, sms_bodies

pytestmark = pytest.mark.django_db


def test_a_code_goes_out_as_one_transactional_high_priority_sms(
    code_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_otp("0912-345-678")
    assert sent.phone == "0912345678"
    message = Message.objects.get()
    assert message.kind == Message.Kind.TRANSACTIONAL
    assert message.priority == Message.Priority.HIGH
    # The SMS is dropped rather than delivered after the code stopped working.
    assert message.expires_at == sent.expires_at == sent.challenge.expires_at
    assert sent.expires_at - sent.challenge.created_at == timedelta(seconds=300)
    bodies = sms_bodies(code_gateway)
    assert len(bodies) == 1
    assert bodies[0] == message.body


def test_the_code_is_stored_only_as_a_keyed_hash(
    code_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_otp("0912345678")
    code = code_in(sms_bodies(code_gateway)[0])
    stored = OneTimeCode.objects.get()
    assert code not in stored.code_hash
    nonce, _, digest = stored.code_hash.partition("$")
    assert len(nonce) == 16
    assert len(digest) == 64


def test_the_text_names_the_sender_the_code_and_its_validity(
    code_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        send_otp("0912345678")
    body = Message.objects.get().body
    code = code_in(body)
    assert body == f"【Shop】Your code is {code}, valid 5 min. Never share it."
    # One SMS: the tag's brackets make it UCS2, 70 characters.
    assert Message.objects.get().segments == 1


def test_the_text_is_in_traditional_chinese_when_asked(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_SHOW_NUMBER_DIGITS=3)
    send_otp("0912345678", language="zh-hant")
    body = Message.objects.get().body
    assert body.startswith("【Shop】")
    assert "驗證碼" in body
    assert "678" in body
    assert "5 分鐘" in body


def test_the_last_digits_of_the_number_can_be_shown(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_SHOW_NUMBER_DIGITS=3)
    with translation.override("en"):
        send_otp("0912345678")
    assert "for phone ending 678," in Message.objects.get().body


def test_a_project_template_is_used_and_checked(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_MESSAGE_TEMPLATE="{sender} {code} ({minutes} min)", OTP_VALIDITY=600)
    send_otp("0912345678")
    body = Message.objects.get().body
    assert body == f"【Shop】 {code_in(body)} (10 min)"
    configure(OTP_MESSAGE_TEMPLATE="Welcome {user}", OTP_COOLDOWN=0)
    with pytest.raises(ImproperlyConfigured, match=r"\{code\}"):
        send_otp("0912345679")


def test_a_bad_number_is_refused_before_anything_is_counted(code_gateway: Simulator) -> None:
    from django_smsgo.codes.models import CodeCooldown, SendCounter

    with pytest.raises(InvalidNumberError, match="12345"):
        send_otp("12345", key="203.0.113.9")
    assert not Message.objects.exists()
    assert not CodeCooldown.objects.exists()
    assert not SendCounter.objects.exists()


def test_a_new_code_replaces_the_earlier_one(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_COOLDOWN=0)
    first = send_otp("0912345678")
    second = send_otp("0912345678")
    first.challenge.refresh_from_db()
    assert first.challenge.expires_at <= second.challenge.created_at
    assert second.challenge.expires_at > second.challenge.created_at

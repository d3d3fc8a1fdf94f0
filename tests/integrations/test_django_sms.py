"""django-sms: code written against its API sends through smsgo unchanged."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("sms")

import sms
from sms import Message as DjangoSmsMessage

from django_smsgo.integrations.django_sms import SmsBackend
from django_smsgo.models import Message
from django_smsgo.services.errors import DuplicateMessageError
from django_smsgo.simulator.instance import Simulator

from .conftest import texts

pytestmark = pytest.mark.django_db

BACKEND = "django_smsgo.integrations.django_sms.SmsBackend"


@pytest.fixture(autouse=True)
def _backend(settings: Any) -> None:
    settings.SMS_BACKEND = BACKEND


def test_send_sms_goes_through_smsgo(
    sms_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        count = sms.send_sms("Your parcel is here", recipients=["0912-345-678", "+886912345679"])
    assert count == 1
    assert texts(sms_gateway) == [(["0912345678", "0912345679"], "Your parcel is here")]
    assert Message.objects.get().recipient_count == 2


def test_each_message_carries_its_smsgo_message(
    sms_gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    first = DjangoSmsMessage("One", recipients=["0912345678"])
    second = DjangoSmsMessage("Two", recipients=["0912345679"])
    empty = DjangoSmsMessage("Nobody")
    with django_capture_on_commit_callbacks(execute=True), sms.get_connection() as connection:
        assert connection.send_messages([first, second, empty]) == 2
    assert first.smsgo_message.body == "One"
    assert second.smsgo_message.recipients.get().phone == "0912345679"
    assert not hasattr(empty, "smsgo_message")
    assert len(texts(sms_gateway)) == 2


def test_connection_options_reach_send_sms(sms_gateway: Simulator, settings: Any) -> None:
    settings.SMSGO_DJANGO_SMS_OPTIONS = {"kind": "transactional"}
    connection = sms.get_connection(priority="high")
    message = DjangoSmsMessage("Code 1234", recipients=["0912345678"], connection=connection)
    assert message.send() == 1
    stored = Message.objects.get()
    assert (stored.kind, stored.priority) == ("transactional", "high")
    with pytest.raises(TypeError, match="colour"):
        SmsBackend(colour="red")


def test_errors_raise_unless_silenced(sms_gateway: Simulator) -> None:
    sms.send_sms("Same text", recipients=["0912345678"])
    with pytest.raises(DuplicateMessageError):
        sms.send_sms("Same text", recipients=["0912345678"])
    quiet = DjangoSmsMessage("Same text", recipients=["0912345678"])
    assert sms.get_connection(fail_silently=True).send_messages([quiet]) == 0
    assert isinstance(quiet.smsgo_error, DuplicateMessageError)
    assert Message.objects.count() == 1

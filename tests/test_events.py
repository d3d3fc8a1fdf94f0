"""The event vocabulary: the gateway's states in django-anymail's words."""

from __future__ import annotations

import pytest

from django_smsgo.client.statuses import FINAL_STATES
from django_smsgo.events import (
    RECIPIENT_STATUS_EVENTS,
    EventType,
    OutgoingSms,
    event_for_state,
)
from django_smsgo.exceptions import SmsgoCancelSend, SmsgoError
from django_smsgo.models import Recipient


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("DELIVRD", "delivered"),
        (" delivrd ", "delivered"),
        ("UNDELIV", "failed"),
        ("EXPIRED", "failed"),
        ("ACCEPTD", "failed"),
        ("REJECTD", "rejected"),
        ("SPAM", "rejected"),
        ("BLOCK", "rejected"),
        ("ENROUTE", "sent"),
        ("SCHEDULED", "queued"),
        ("WHATEVER", "unknown"),
    ],
)
def test_states_become_anymail_events(state: str, event: str) -> None:
    assert event_for_state(state) == event


def test_every_final_state_and_recipient_status_has_an_event() -> None:
    assert all(event_for_state(state) is not EventType.SENT for state in FINAL_STATES)
    assert set(RECIPIENT_STATUS_EVENTS) == set(Recipient.Status.values)


def test_the_outgoing_sms_and_the_cancel_exception() -> None:
    sms = OutgoingSms(numbers=["0912345678"], body="Hi")
    assert (sms.metadata, sms.tags, sms.options) == ({}, [], {})
    cancel = SmsgoCancelSend("the customer asked for no SMS")
    assert isinstance(cancel, SmsgoError)
    assert cancel.reason == str(cancel) == "the customer asked for no SMS"

"""Who composed, sent, cancelled and resent a message: the admin's history and the message page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.utils import timezone

from django_smsgo.models import Message, Recipient
from django_smsgo.services.sending import create_draft
from tests.admin.conftest import ADD, CHANGELIST
from tests.admin.test_actions import act

pytestmark = pytest.mark.django_db(transaction=True)


def history_of(message: Message) -> list[tuple[str, int, str]]:
    """(user, action flag, our event) of the message's entries, oldest first."""
    from django_smsgo.admin.history import ours

    entries = LogEntry.objects.filter(object_id=str(message.pk)).order_by("pk")
    return [(e.user.username, e.action_flag, ours(e).get("event", "")) for e in entries]


def page_of(client: Any, message: Message, **headers: Any) -> str:
    return client.get(f"{CHANGELIST}{message.pk}/change/", **headers).content.decode()


def test_composing_and_sending_are_in_the_history(client_as, sender, gateway):
    client = client_as(sender)
    client.post(ADD, {"recipients": "0912345678\n0922333444", "body": "Hello", "kind": "marketing"})
    message = Message.objects.get()
    act(client, "send_messages", message, confirm=True)
    assert history_of(message) == [("sender", ADDITION, ""), ("sender", CHANGE, "sent")]
    page = page_of(client, message)
    assert "Composed" in page
    assert "Sent to 2 recipients" in page
    history = client.get(f"{CHANGELIST}{message.pk}/history/").content.decode()
    assert "Sent to 2 recipients" in history
    assert "Composed" in history


def test_a_cancel_is_in_the_history(client_as, sender, gateway, make_staff):
    message = create_draft(["0912345678"], "Sale tomorrow", send_at=timezone.now() + timedelta(1))
    canceller = make_staff("view_message", "cancel_sms", username="canceller")
    act(client_as(canceller), "cancel_messages", message, confirm=True)
    assert history_of(message) == [("canceller", CHANGE, "cancelled")]
    assert "Cancelled" in page_of(client_as(sender), message)


def test_a_confirmation_page_alone_logs_nothing(client_as, sender, gateway):
    message = create_draft(["0912345678"], "Hello")
    act(client_as(sender), "send_messages", message)
    act(client_as(sender), "cancel_messages", message)
    assert history_of(message) == []


def test_a_send_that_did_not_happen_logs_nothing(client_as, sender, gateway):
    message = create_draft(["0912345678"], "Hello")
    client = client_as(sender)
    act(client, "send_messages", message, confirm=True)
    act(client, "send_messages", message, confirm=True)  # the same page clicked twice
    assert [event for _u, _f, event in history_of(message)] == ["sent"]


def test_a_resend_is_in_both_messages_histories(client_as, sender, gateway, make_message):
    original = make_message(
        3, status=Message.Status.FAILED, recipient_status=Recipient.Status.FAILED
    )
    client = client_as(sender)
    ticket = act(client, "resend_failed", original).context["ticket"]
    act(client, "resend_failed", original, confirm=True, ticket=ticket)
    resend = Message.objects.get(resend_of=original)
    assert history_of(original) == [("sender", CHANGE, "resent")]
    assert history_of(resend) == [("sender", ADDITION, "resend_of")]
    assert f"Resent to 3 recipients as message #{resend.pk}" in page_of(client, original)
    assert f"Composed as a resend of message #{original.pk}" in page_of(client, resend)


def test_the_history_speaks_traditional_chinese(client_as, sender, gateway):
    message = create_draft(["0912345678"], "Hello")
    client = client_as(sender)
    act(client, "send_messages", message, confirm=True)
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-TW"}
    assert "已傳送給 1 位收件人" in page_of(client, message, **zh)
    history = client.get(f"{CHANGELIST}{message.pk}/history/", **zh).content.decode()
    assert "已傳送給 1 位收件人" in history
    assert "日期/時間" in history


def test_the_stock_reading_of_an_entry_still_makes_sense(client_as, sender, gateway):
    message = create_draft(["0912345678"], "Hello")
    act(client_as(sender), "send_messages", message, confirm=True)
    entry = LogEntry.objects.get(object_id=str(message.pk))
    assert entry.get_change_message() == "Changed status."


def test_a_message_without_history_says_so(client_as, sender, make_message):
    page = page_of(client_as(sender), make_message(2))
    assert "Nothing was done to this message in the admin." in page

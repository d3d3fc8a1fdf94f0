"""The message actions: send, cancel, refresh, resend; each through the change list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from django_smsgo.models import BalanceSnapshot, Message, Recipient
from django_smsgo.services.sending import create_draft, send_sms
from tests.admin.conftest import CHANGELIST, send_requests

pytestmark = pytest.mark.django_db(transaction=True)


def act(client: Any, action: str, *messages: Message, confirm: bool = False, **extra: Any) -> Any:
    data: dict[str, Any] = {"action": action, ACTION_CHECKBOX_NAME: [m.pk for m in messages]}
    if confirm:
        data["post"] = "yes"
    data.update(extra)
    return client.post(CHANGELIST, data)


def cancel_requests(simulator: Any) -> list[dict[str, Any]]:
    return [r for r in simulator.requests if r["endpoint"] == "sendsms_cancel.asp"]


def shown(response: Any) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


# -- send ---------------------------------------------------------------------


def test_send_first_shows_the_count_and_the_points(client_as, sender, gateway):
    draft = create_draft(["0912345678", "0922333444", "0933555666"], "x" * 100 + "é")
    BalanceSnapshot.objects.create(points=500)
    response = act(client_as(sender), "send_messages", draft)
    assert response.status_code == 200
    assert response.templates[0].name == "django_smsgo/admin/confirm_action.html"
    assert response.context["total_recipients"] == 3
    assert response.context["segments"] == 2
    assert response.context["total_sms"] == 6  # 3 recipients x 2 segments
    assert response.context["total_points"] == draft.estimated_points == 6
    assert response.context["balance_after"] == "494"
    assert send_requests(gateway) == []
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT


def test_confirming_sends_to_the_gateway(client_as, sender, gateway):
    draft = create_draft(["0912345678", "0922333444"], "Your code is 1234")
    response = act(client_as(sender), "send_messages", draft, confirm=True)
    assert response.status_code == 302
    (request,) = send_requests(gateway)
    assert request["params"]["dstaddr"] == "0912345678,0922333444"
    draft.refresh_from_db()
    assert draft.status == Message.Status.SUBMITTED
    assert "1 message is on its way." in shown(response)


def test_double_submitting_the_confirmation_sends_once(client_as, sender, gateway):
    client = client_as(sender)
    draft = create_draft(["0912345678"], "Only once please")
    act(client, "send_messages", draft, confirm=True)
    second = act(client, "send_messages", draft, confirm=True)
    assert len(send_requests(gateway)) == 1
    assert gateway.duplicates() == {"pairs": 0, "extra_sends": 0}
    assert "left alone" in shown(second)


def test_sending_goes_back_to_the_page_it_came_from(client_as, sender, gateway):
    draft = create_draft(["0912345678"], "Hi")
    page = f"{CHANGELIST}{draft.pk}/change/"
    response = act(client_as(sender), "send_messages", draft, confirm=True, next=page)
    assert response["Location"] == page
    offsite = act(
        client_as(sender), "send_messages", draft, confirm=True, next="https://evil.example/"
    )
    assert offsite["Location"] != "https://evil.example/"


def test_messages_that_are_not_drafts_are_left_alone(client_as, sender, gateway, make_message):
    done = make_message(
        2, status=Message.Status.COMPLETED, recipient_status=Recipient.Status.DELIVERED
    )
    response = act(client_as(sender), "send_messages", done, confirm=True)
    assert send_requests(gateway) == []
    assert "left alone" in shown(response)


# -- cancel -------------------------------------------------------------------


def test_cancelling_a_scheduled_message_calls_it_back_at_the_gateway(client_as, sender, gateway):
    message = send_sms(["0912345678"], "Tomorrow", send_at=timezone.now() + timedelta(days=1))
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    client = client_as(sender)
    confirm_page = act(client, "cancel_messages", message)
    assert confirm_page.context["total_sms"] == 1
    assert cancel_requests(gateway) == []
    act(client, "cancel_messages", message, confirm=True)
    assert len(cancel_requests(gateway)) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED
    assert message.recipients.get().status == Recipient.Status.CANCELLED


def test_cancelling_a_draft_sends_nothing(client_as, sender, gateway):
    draft = create_draft(["0912345678"], "Never mind")
    act(client_as(sender), "cancel_messages", draft, confirm=True)
    draft.refresh_from_db()
    assert draft.status == Message.Status.CANCELLED
    assert gateway.requests == []


def test_a_message_already_sent_cannot_be_cancelled(client_as, sender, gateway):
    message = send_sms(["0912345678"], "Gone already")
    response = act(client_as(sender), "cancel_messages", message, confirm=True)
    assert "not cancelled" in shown(response) or "left alone" in shown(response)
    assert cancel_requests(gateway) == []


# -- refresh ------------------------------------------------------------------


def test_refresh_asks_the_gateway_and_shows_the_delivery(client_as, sender, gateway):
    message = send_sms(["0912345678", "0922333444"], "Status please")
    assert set(message.recipients.values_list("status", flat=True)) == {Recipient.Status.SUBMITTED}
    response = act(client_as(sender), "refresh_status", message)
    assert response.status_code == 302  # no confirmation: it spends nothing
    assert set(message.recipients.values_list("status", flat=True)) == {Recipient.Status.DELIVERED}
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    assert "Asked the gateway about 2 SMS; 2 had news." in shown(response)


def test_refresh_asks_only_about_the_selected_messages(client_as, sender, gateway):
    selected = send_sms(["0912345678"], "Selected")
    other = send_sms(["0922333444"], "Not selected")
    act(client_as(sender), "refresh_status", selected)
    assert selected.recipients.get().status == Recipient.Status.DELIVERED
    assert other.recipients.get().status == Recipient.Status.SUBMITTED


def test_refresh_with_nothing_waiting_asks_nothing(client_as, sender, gateway):
    draft = create_draft(["0912345678"], "Draft")
    response = act(client_as(sender), "refresh_status", draft)
    assert "waiting for a delivery report" in shown(response)
    assert gateway.requests == []


# -- resend -------------------------------------------------------------------


def test_resend_confirms_then_sends_the_failed_and_uncertain_as_a_new_message(
    client_as, sender, gateway, make_message
):
    original = make_message(
        4, status=Message.Status.FAILED, recipient_status=Recipient.Status.DELIVERED
    )
    original.recipients.filter(phone__in=["0910000000", "0910000001"]).update(
        status=Recipient.Status.FAILED
    )
    original.recipients.filter(phone="0910000002").update(status=Recipient.Status.UNCERTAIN)
    client = client_as(sender)
    page = act(client, "resend_failed", original)
    assert page.context["total_sms"] == 3
    assert page.context["total_points"] == 3
    assert "may deliver them twice" in page.content.decode()
    assert send_requests(gateway) == []
    ticket = page.context["ticket"]
    act(client, "resend_failed", original, confirm=True, ticket=ticket)
    resend = Message.objects.get(resend_of=original)
    assert sorted(resend.recipients.values_list("phone", flat=True)) == [
        "0910000000",
        "0910000001",
        "0910000002",
    ]
    (request,) = send_requests(gateway)
    assert request["params"]["dstaddr"] == "0910000000,0910000001,0910000002"
    assert resend.created_by == sender


def test_double_submitting_the_resend_sends_once(client_as, sender, gateway, make_message):
    original = make_message(
        2, status=Message.Status.FAILED, recipient_status=Recipient.Status.FAILED
    )
    client = client_as(sender)
    ticket = act(client, "resend_failed", original).context["ticket"]
    act(client, "resend_failed", original, confirm=True, ticket=ticket)
    second = act(client, "resend_failed", original, confirm=True, ticket=ticket)
    assert Message.objects.filter(resend_of=original).count() == 1
    assert len(send_requests(gateway)) == 1
    assert "had already been resent" in shown(second)


def test_a_resend_without_a_valid_ticket_is_forbidden(client_as, sender, gateway, make_message):
    original = make_message(
        2, status=Message.Status.FAILED, recipient_status=Recipient.Status.FAILED
    )
    response = act(client_as(sender), "resend_failed", original, confirm=True, ticket="forged")
    assert response.status_code == 403
    assert send_requests(gateway) == []


def test_resend_with_nothing_failed_says_so(client_as, sender, make_message):
    done = make_message(
        2, status=Message.Status.COMPLETED, recipient_status=Recipient.Status.DELIVERED
    )
    response = act(client_as(sender), "resend_failed", done)
    assert response.status_code == 302
    assert "No recipient of the selected messages failed" in shown(response)


# -- when the gateway says no -------------------------------------------------


def test_a_refresh_the_gateway_refuses_is_reported(client_as, sender, gateway):
    message = send_sms(["0912345678"], "Status please")
    gateway.fault("code", endpoint="queryBulk.asp", code=-2)
    response = act(client_as(sender), "refresh_status", message)
    assert "The gateway could not be asked" in shown(response)
    assert message.recipients.get().status == Recipient.Status.SUBMITTED


def test_a_cancel_the_gateway_refuses_is_reported_and_nothing_changes(client_as, sender, gateway):
    message = send_sms(["0912345678"], "Tomorrow", send_at=timezone.now() + timedelta(days=1))
    gateway.fault("code", endpoint="sendsms_cancel.asp", code=-1)
    response = act(client_as(sender), "cancel_messages", message, confirm=True)
    assert f"Message #{message.pk} was not cancelled: the gateway refused" in shown(response)
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    assert message.recipients.get().status == Recipient.Status.SUBMITTED


def test_a_resend_the_balance_cannot_pay_is_refused(client_as, sender, gateway, make_message):
    original = make_message(
        3, status=Message.Status.FAILED, recipient_status=Recipient.Status.FAILED
    )
    BalanceSnapshot.objects.create(points=2)
    client = client_as(sender)
    page = act(client, "resend_failed", original)
    assert page.context["short_of_points"] is True
    response = act(client, "resend_failed", original, confirm=True, ticket=page.context["ticket"])
    assert "was not resent" in shown(response)
    assert not Message.objects.filter(resend_of=original).exists()
    assert send_requests(gateway) == []


def test_a_partial_cancel_says_which_msgids_the_gateway_refused(client_as, sender, gateway):
    numbers = [f"09120000{n:02d}" for n in range(60)]  # two requests of 50 and 10
    message = send_sms(numbers, "Tomorrow", send_at=timezone.now() + timedelta(days=1))
    gateway.fault("code", endpoint="sendsms_cancel.asp", code=-1, count=1)
    response = act(client_as(sender), "cancel_messages", message, confirm=True)
    assert "cancelled only in part: the gateway refused" in shown(response)
    statuses = list(message.recipients.values_list("status", flat=True))
    assert sorted(set(statuses)) == [Recipient.Status.CANCELLED, Recipient.Status.SUBMITTED]

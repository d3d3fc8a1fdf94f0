"""Who may do what: sending and cancelling need their own permissions; nobody edits history."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from django_smsgo.models import DeliveryReport, Message, Recipient, Reply
from django_smsgo.testing.factories import ReplyFactory
from tests.admin.conftest import ADD, CHANGELIST, ESTIMATE, send_requests


def action_choices(response: Any) -> set[str]:
    return {name for name, _label in response.context["action_form"].fields["action"].choices}


def test_a_viewer_sees_no_send_cancel_or_resend_action(client_as, viewer, make_message):
    make_message(1)
    response = client_as(viewer).get(CHANGELIST)
    assert response.status_code == 200
    choices = action_choices(response)
    assert "send_messages" not in choices
    assert "cancel_messages" not in choices
    assert "resend_failed" not in choices
    assert "refresh_status" in choices  # spends nothing
    assert "delete_selected" not in choices
    assert "Compose SMS" not in response.content.decode()


def test_a_sender_sees_every_action(client_as, sender, make_message):
    make_message(1)
    choices = action_choices(client_as(sender).get(CHANGELIST))
    assert {"send_messages", "cancel_messages", "refresh_status", "resend_failed"} <= choices


@pytest.mark.parametrize("action", ["send_messages", "cancel_messages", "resend_failed"])
@pytest.mark.parametrize("confirm", [False, True])
def test_posting_an_action_without_its_permission_is_forbidden(
    client_as, viewer, make_message, gateway, action, confirm
):
    draft = make_message(2)
    data: dict[str, Any] = {"action": action, ACTION_CHECKBOX_NAME: [draft.pk]}
    if confirm:
        data["post"] = "yes"
    response = client_as(viewer).post(CHANGELIST, data)
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT
    assert send_requests(gateway) == []


def test_send_sms_alone_does_not_allow_cancelling(client_as, make_staff, make_message):
    user = make_staff("view_message", "send_sms")
    draft = make_message(1)
    response = client_as(user).post(
        CHANGELIST, {"action": "cancel_messages", ACTION_CHECKBOX_NAME: [draft.pk], "post": "yes"}
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT


def test_the_message_page_is_view_only(client_as, sender, make_message):
    message = make_message(3)
    client = client_as(sender)
    page = f"{CHANGELIST}{message.pk}/change/"
    assert client.get(page).status_code == 200
    response = client.post(page, {"body": "changed", "status": "completed"})
    assert response.status_code == 403
    message.refresh_from_db()
    assert (message.body, message.status) == ("Your parcel is on its way", Message.Status.DRAFT)
    assert client.post(f"{CHANGELIST}{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()


def test_the_page_shows_only_the_buttons_the_user_may_use(client_as, viewer, sender, make_message):
    draft = make_message(1)
    page = f"{CHANGELIST}{draft.pk}/change/"
    for_viewer = client_as(viewer).get(page).content.decode()
    for_sender = client_as(sender).get(page).content.decode()
    assert 'data-action="send_messages"' not in for_viewer
    assert 'data-action="cancel_messages"' not in for_viewer
    assert 'data-action="send_messages"' in for_sender
    assert 'data-action="cancel_messages"' in for_sender


def test_the_estimate_needs_the_add_permission(client_as, viewer):
    response = client_as(viewer).post(ESTIMATE, {"recipients": "0912345678", "body": "x"})
    assert response.status_code == 403


def test_a_user_without_the_view_permission_sees_nothing(client_as, make_staff, make_message):
    message = make_message(1)
    nobody = client_as(make_staff())
    assert nobody.get(CHANGELIST).status_code == 403
    assert nobody.get(f"{CHANGELIST}{message.pk}/change/").status_code in (302, 403)
    assert nobody.get(ADD).status_code == 403


@pytest.fixture
def report_and_reply(make_message: Any) -> tuple[DeliveryReport, Reply]:
    message = make_message(
        1, status=Message.Status.COMPLETED, recipient_status=Recipient.Status.DELIVERED
    )
    recipient = message.recipients.get()
    # A delivered recipient comes with the report that delivered it.
    report = recipient.reports.get()
    reply = ReplyFactory(message=message, recipient=recipient, body="YES")
    return report, reply


@pytest.mark.parametrize("model", ["deliveryreport", "reply"])
def test_reports_and_replies_are_read_only_even_for_a_superuser(
    client_as, report_and_reply, model, django_user_model
):
    admin_user = django_user_model.objects.create_superuser(
        "root", "root@example.com", "pw-not-secret"
    )
    client = client_as(admin_user)
    obj = report_and_reply[0] if model == "deliveryreport" else report_and_reply[1]
    base = f"/admin/django_smsgo/{model}/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}{obj.pk}/change/").status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert (
        client.post(f"{base}{obj.pk}/change/", {"statusstr": "UNDELIV", "body": "NO"}).status_code
        == 403
    )
    assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    report, reply = report_and_reply
    report.refresh_from_db()
    reply.refresh_from_db()
    assert (report.statusstr, reply.body) == ("DELIVRD", "YES")


def test_the_message_page_links_to_its_own_reports_and_replies(
    client_as, sender, report_and_reply, django_user_model
):
    report, reply = report_and_reply
    client = client_as(sender)
    page = client.get(f"{CHANGELIST}{reply.message_id}/change/")
    assert page.context["reports_url"].endswith(
        f"?recipient__message__id__exact={reply.message_id}"
    )
    reports = client.get(page.context["reports_url"])
    replies = client.get(page.context["replies_url"])
    assert reports.status_code == 200
    assert replies.status_code == 200
    assert list(reports.context["cl"].result_list) == [report]
    assert list(replies.context["cl"].result_list) == [reply]


def test_staff_add_a_number_to_the_opt_out_list_in_any_form(django_user_model, client_as):
    from django_smsgo.models import Suppression

    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-not-secret")
    client = client_as(root)
    url = "/admin/django_smsgo/suppression/add/"
    response = client.post(url, {"phone": "+886 912-345-678", "reason": "manual", "note": "asked"})
    assert response.status_code == 302
    assert Suppression.objects.get().phone == "0912345678"
    again = client.post(url, {"phone": "0912345678", "reason": "manual"})
    assert "already on the list" in again.content.decode()
    bad = client.post(url, {"phone": "12345", "reason": "manual"})
    assert bad.status_code == 200
    assert Suppression.objects.count() == 1

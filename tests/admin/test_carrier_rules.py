"""The carrier rules in the console: the counter's figures, the form's errors, the send action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from django_smsgo.admin.stats import TAIPEI
from django_smsgo.models import Message
from django_smsgo.services.sending import create_draft, send_sms
from tests.admin.conftest import ADD, CHANGELIST, ESTIMATE, send_requests

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "【好物】"


def window_around_now() -> tuple[list[tuple[str, str]], Any]:
    now = timezone.localtime(timezone.now(), TAIPEI)
    end = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    return [(f"{now - timedelta(hours=1):%H:%M}", f"{end:%H:%M}")], end


def test_the_counter_counts_the_text_as_it_goes_out(client_as, sender, configure):
    configure(SENDER_TAG=TAG, SENDER_TAG_MODE="prefix", OPT_OUT_FOOTER=" 退訂回覆STOP")
    body = "好" * 61  # 61 + 4 + 9 = 74 characters: two segments once shaped
    data = client_as(sender).post(ESTIMATE, {"recipients": "0912345678", "body": body}).json()
    assert data["body"] == TAG + body + " 退訂回覆STOP"
    assert data["characters"] == 74
    assert data["segments"] == 2
    assert data["points"] == 2
    assert [note["code"] for note in data["notes"]] == ["sender_tag_added", "opt_out_footer_added"]
    transactional = (
        client_as(sender)
        .post(ESTIMATE, {"recipients": "0912345678", "body": body, "kind": "transactional"})
        .json()
    )
    assert transactional["body"] == TAG + body
    assert transactional["segments"] == 1


def test_the_counter_names_each_refusal(client_as, sender, configure):
    configure(REGISTERED_LINKS=[], REGISTERED_NUMBERS=[])
    data = (
        client_as(sender)
        .post(ESTIMATE, {"recipients": "0912345678", "body": "看 evil(dot)com 撥 0912-345-678"})
        .json()
    )
    assert [p["rule"] for p in data["rule_problems"]] == ["links", "numbers"]
    assert 'data-rule="links"' in data["counter_html"]
    assert "evil(dot)com" in data["counter_html"]


def test_the_counter_warns_at_80_percent_of_the_budget(client_as, sender, configure, gateway):
    configure(POINTS_BUDGET={"marketing": {"day": 10}})
    send_sms([f"09120000{n:02d}" for n in range(6)], "早安")
    client = client_as(sender)
    one = client.post(ESTIMATE, {"recipients": "0912999001", "body": "晚安"}).json()
    assert one["budget"] == []  # 7 of 10
    two = client.post(ESTIMATE, {"recipients": "0912999001\n0912999002", "body": "晚安"}).json()
    assert two["budget"] == [{"period": "day", "used": 6, "after": 8, "cap": 10, "over": False}]
    assert 'data-budget="day"' in two["counter_html"]
    many = "\n".join(f"09129990{n:02d}" for n in range(5))
    over = client.post(ESTIMATE, {"recipients": many, "body": "晚安"}).json()
    assert over["budget"][0]["over"] is True


def test_a_refusal_is_shown_on_its_field_and_nothing_is_stored(client_as, sender, configure):
    configure(SENDER_TAG=TAG, SENDER_TAG_MODE="require")
    response = client_as(sender).post(ADD, {"recipients": "0912345678", "body": "驗證碼 1234"})
    assert response.status_code == 200
    assert "does not name the sender" in str(response.context["form"].errors["body"])
    assert Message.objects.count() == 0


def test_sending_over_budget_is_refused_with_a_message_not_an_error(
    client_as, sender, configure, gateway
):
    configure(POINTS_BUDGET={"marketing": {"day": 2}})
    draft = create_draft(["0912000001", "0912000002"], "全館八折")
    send_sms(["0912000003"], "別的")
    response = client_as(sender).post(
        CHANGELIST,
        {"action": "send_messages", ACTION_CHECKBOX_NAME: [draft.pk], "post": "yes"},
    )
    assert response.status_code == 302
    shown = " ".join(str(m) for m in response.wsgi_request._messages)
    assert f"#{draft.pk} not sent" in shown
    assert "POINTS_BUDGET" in shown
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT
    assert len(send_requests(gateway)) == 1


def test_the_confirmation_says_a_draft_will_be_held(client_as, sender, configure, gateway):
    draft = create_draft(["0912000001"], "全館八折")
    window, end = window_around_now()
    configure(QUIET_HOURS=window)
    response = client_as(sender).post(
        CHANGELIST, {"action": "send_messages", ACTION_CHECKBOX_NAME: [draft.pk]}
    )
    (row,) = response.context["rows"]
    assert f"{end:%Y-%m-%d %H:%M}" in row.note
    assert "quiet hours" in row.note

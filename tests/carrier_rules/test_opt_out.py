"""Refusal of further marketing: the keyword rule, the suppression list and the evidence log."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from django_smsgo.models import ConsentRecord, Message, Recipient, Suppression
from django_smsgo.reasons import Reason
from django_smsgo.services.replies import is_opt_in, is_opt_out, record_reply
from django_smsgo.services.sending import create_draft, queue_message
from django_smsgo.services.suppression import (
    cancel_pending_marketing,
    suppress,
    unsuppress,
)
from tests.callbacks.conftest import make_batch

MSGID = "100101121234567"


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop! ",
        "ＳＴＯＰ",
        "S T O P",
        "🛑 STOP 🛑",
        "Stop all",
        "退訂",
        "退訂。",
        "取消",
        "拒收",
    ],
)
def test_opt_out_keywords(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "Stop. Thank you",
        "stop sending me the wrong size",
        "don't stop",
        "stopwatch",
        "請退訂",  # a project that wants it adds it to OPT_OUT_KEYWORDS
        "我不要退訂",
        "取消訂單",
        "OK 收到",
        "",
    ],
)
def test_conversations_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


@pytest.mark.parametrize("text", ["START", "start!", "訂閱", "恢復訂閱", "UNSTOP"])
def test_opt_in_keywords(text: str) -> None:
    assert is_opt_in(text)
    assert not is_opt_out(text)


def test_opt_in_is_the_whole_reply_too() -> None:
    assert not is_opt_in("start the order please")


@pytest.mark.django_db
def test_an_opt_out_reply_is_logged_as_evidence() -> None:
    make_batch()
    reply = record_reply(msgid=MSGID, srcaddr="+886912345678", smbody="退訂。", raw={})
    (record,) = ConsentRecord.objects.all()
    assert record.action == ConsentRecord.Action.OPT_OUT
    assert record.source == ConsentRecord.Source.REPLY
    assert record.phone == "+886912345678"
    assert record.reply == reply
    assert record.reply_text == "退訂。"
    assert record.created_at is not None
    assert Suppression.objects.get().reply == reply


@pytest.mark.django_db
def test_every_refusal_is_logged_while_the_list_keeps_one_entry() -> None:
    make_batch()
    record_reply(msgid=MSGID, srcaddr="0912345678", smbody="STOP", raw={})
    record_reply(msgid=MSGID, srcaddr="0912345678", smbody="退訂", raw={})
    assert Suppression.objects.count() == 1
    assert ConsentRecord.objects.filter(action="opt_out").count() == 2


@pytest.mark.django_db
def test_an_opt_in_reply_takes_the_number_off_the_list_and_is_logged() -> None:
    make_batch()
    record_reply(msgid=MSGID, srcaddr="0912345678", smbody="STOP", raw={})
    reply = record_reply(msgid=MSGID, srcaddr="+886912345678", smbody="START", raw={})
    assert not Suppression.objects.exists()
    opt_in = ConsentRecord.objects.get(action=ConsentRecord.Action.OPT_IN)
    assert (opt_in.source, opt_in.reply, opt_in.reply_text) == ("reply", reply, "START")


@pytest.mark.django_db
def test_an_opt_in_of_a_number_not_on_the_list_logs_nothing() -> None:
    make_batch()
    record_reply(msgid=MSGID, srcaddr="0912345678", smbody="START", raw={})
    assert not ConsentRecord.objects.exists()


@pytest.mark.django_db
def test_staff_and_api_sources_and_the_staff_member() -> None:
    user = User.objects.create_user("clerk")
    suppress("0912345678", note="asked by phone", source="staff", by=user)
    unsuppress("0912345678", source="api")
    out, back = ConsentRecord.objects.order_by("pk")
    assert (out.action, out.source, out.created_by, out.note) == (
        "opt_out",
        "staff",
        user,
        "asked by phone",
    )
    assert (back.action, back.source, back.created_by) == ("opt_in", "api", None)
    with pytest.raises(ValueError, match="'fax'"):
        suppress("0912345678", source="fax")


@pytest.mark.django_db
def test_an_opt_out_stops_pending_marketing_at_once_but_not_transactional(
    gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    promo = create_draft(["0912345678", "0912000001"], "全館八折", kind="marketing")
    code = create_draft(["0912345678"], "驗證碼 1234", kind="transactional")
    make_batch(phones=["0912345678"], msgid=MSGID)
    record_reply(msgid=MSGID, srcaddr="886912345678", smbody="STOP", raw={})
    stopped = Recipient.objects.get(message=promo, phone="0912345678")
    assert stopped.status == Recipient.Status.CANCELLED
    assert stopped.reason_code == Reason.SUPPRESSED
    assert stopped.final_at is not None
    assert Recipient.objects.get(message=code).status == Recipient.Status.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        queue_message(promo)
        queue_message(code)
    sent = [r for r in gateway.requests if r["endpoint"] == "sendsms.aspx"]
    destinations = sorted(r["params"]["dstaddr"] for r in sent)
    assert destinations == ["0912000001", "0912345678"]  # promo to the other, the code to both
    promo.refresh_from_db()
    assert promo.status != Message.Status.QUEUED


@pytest.mark.django_db
def test_recipients_already_in_a_batch_are_left_alone() -> None:
    batch = make_batch(phones=["0912345678"], state="claimed")
    assert cancel_pending_marketing("0912345678") == 0
    assert batch.recipients.get().status == Recipient.Status.QUEUED

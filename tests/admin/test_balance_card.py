"""The change list's balance never passes a stale figure for a current one."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from django_smsgo.models import BalanceSnapshot, Message
from tests.admin.conftest import CHANGELIST


def test_points_charged_since_the_balance_was_read_are_shown(client_as, sender, make_message):
    snapshot = BalanceSnapshot.objects.create(points=8_520)
    read_at = timezone.now() - timedelta(hours=1)
    BalanceSnapshot.objects.filter(pk=snapshot.pk).update(checked_at=read_at)
    make_message(3, status=Message.Status.COMPLETED, submitted_at=read_at - timedelta(minutes=5))
    page = client_as(sender).get(CHANGELIST).content.decode()
    assert "8,520" in page
    assert "charged since then" not in page  # sent before the balance was read

    sent = make_message(111, status=Message.Status.SUBMITTED, submitted_at=timezone.now())
    Message.objects.filter(pk=sent.pk).update(points_charged=111)
    page = client_as(sender).get(CHANGELIST).content.decode()
    assert "111 points charged since then." in page
    zh = client_as(sender).get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="zh-TW").content.decode()
    assert "此後已扣 111 點。" in zh

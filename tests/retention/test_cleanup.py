"""smsgo_cleanup: old rows deleted or anonymised in bounded batches; live work and opt-outs kept."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_smsgo.codes.models import OneTimeCode, SendCounter
from django_smsgo.models import Batch, DeliveryReport, Message, Recipient, Reply, Suppression
from django_smsgo.services.retention import cleanup
from django_smsgo.testing.factories import (
    DeliveryReportFactory,
    MessageFactory,
    ReplyFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db


def aged(message: Message, days: int) -> Message:
    """``message`` as if created ``days`` ago (with its reports and replies)."""
    then = timezone.now() - timedelta(days=days)
    Message.objects.filter(pk=message.pk).update(created_at=then)
    DeliveryReport.objects.filter(recipient__message=message).update(received_at=then)
    Reply.objects.filter(message=message).update(received_at=then)
    return message


@pytest.fixture
def history() -> dict[str, Message]:
    old = aged(MessageFactory(status=Message.Status.COMPLETED, recipients=3), 400)
    ReplyFactory(message=old, recipient=old.recipients.first(), body="謝謝")
    return {
        "old": old,
        "recent": aged(MessageFactory(status=Message.Status.COMPLETED, recipients=2), 10),
        "old_queued": aged(MessageFactory(status=Message.Status.QUEUED, recipients=1), 400),
        "old_scheduled": aged(
            MessageFactory(
                status=Message.Status.SCHEDULED,
                send_at=timezone.now() + timedelta(days=1),
                recipients=1,
            ),
            400,
        ),
    }


def test_old_finished_messages_go_with_everything_they_hold(history: dict[str, Message]) -> None:
    SuppressionFactory(phone=history["old"].recipients.first().phone)
    unmatched = DeliveryReportFactory(recipient=None, batch=None, msgid="1", phone="0912345678")
    DeliveryReport.objects.filter(pk=unmatched.pk).update(
        received_at=timezone.now() - timedelta(days=400)
    )
    result = cleanup(365)
    assert result.counts["messages"] == 1
    assert result.counts["recipients"] == 3
    assert result.counts["reports"] == 3
    assert result.counts["replies"] == 1
    assert result.counts["batches"] == 1
    assert result.counts["unmatched reports"] == 1
    remaining = set(Message.objects.values_list("pk", flat=True))
    assert remaining == {history[k].pk for k in ("recent", "old_queued", "old_scheduled")}
    assert not Recipient.objects.filter(message_id=history["old"].pk).exists()
    assert not Batch.objects.filter(message_id=history["old"].pk).exists()
    assert Reply.objects.count() == 0
    assert DeliveryReport.objects.count() == 2  # the recent message's
    # An opted-out number stays out, whatever its age.
    assert Suppression.objects.count() == 1


def test_every_batch_is_bounded(history: dict[str, Message]) -> None:
    for _ in range(4):
        aged(MessageFactory(status=Message.Status.FAILED, recipients=5), 400)
    sizes: list[tuple[str, int]] = []
    cleanup(365, batch_size=2, progress=lambda label, rows: sizes.append((label, rows)))
    assert max(rows for _, rows in sizes) == 2
    assert sum(rows for label, rows in sizes if label == "recipients") == 23
    assert sum(rows for label, rows in sizes if label == "messages") == 5


def test_anonymising_keeps_the_rows_without_numbers_or_texts(history: dict[str, Message]) -> None:
    old = history["old"]
    statuses = list(old.recipients.values_list("status", flat=True))
    result = cleanup(365, anonymise=True)
    assert result.counts["recipients"] == 3
    old.refresh_from_db()
    assert (old.body, old.body_hash, old.status) == ("", "", Message.Status.COMPLETED)
    phones = list(old.recipients.values_list("phone", flat=True))
    assert all(p.startswith("#") for p in phones)
    assert len(set(phones)) == 3
    assert list(old.recipients.values_list("status", flat=True)) == statuses
    assert set(
        DeliveryReport.objects.filter(recipient__message=old).values_list("phone", flat=True)
    ) == {""}
    reply = Reply.objects.get()
    assert (reply.from_phone, reply.body, reply.raw) == ("", "", {})
    recent = history["recent"]
    assert all(not p.startswith("#") for p in recent.recipients.values_list("phone", flat=True))
    # A second run finds nothing left to do.
    assert cleanup(365, anonymise=True).total == 0


def test_a_dry_run_counts_and_changes_nothing(history: dict[str, Message]) -> None:
    result = cleanup(365, dry_run=True)
    assert result.counts["recipients"] == 3
    assert Message.objects.count() == 4


def test_codes_and_spent_counters_are_cleaned_but_the_month_is_kept() -> None:
    now = timezone.now()
    OneTimeCode.objects.create(
        phone="0912345678",
        purpose="verify",
        code_hash="x$y",
        created_at=now - timedelta(days=40),
        expires_at=now - timedelta(days=40),
        max_attempts=5,
    )
    for days in (40, 1):
        SendCounter.objects.create(
            scope=SendCounter.Scope.MONTHLY_POINTS,
            subject="",
            window=0,
            window_start=now - timedelta(days=days),
            count=3,
        )
    result = cleanup(1)
    assert (result.counts["codes"], result.counts["send counters"]) == (1, 1)
    assert SendCounter.objects.get().count == 3


def test_the_command_reports_and_refuses_bad_input(history: dict[str, Message]) -> None:
    out = StringIO()
    call_command("smsgo_cleanup", "--days", "365", "--dry-run", stdout=out)
    assert "recipients: 3 would be deleted" in out.getvalue()
    assert Message.objects.count() == 4
    call_command("smsgo_cleanup", "--days", "365", stdout=out)
    assert "messages: 1 deleted" in out.getvalue()
    with pytest.raises(CommandError, match="at least 1"):
        call_command("smsgo_cleanup", "--days", "0")


def test_the_task_runs_the_same_cleanup(history: dict[str, Message]) -> None:
    from django_smsgo.tasks import cleanup as cleanup_task

    assert cleanup_task.name == "django_smsgo.tasks.cleanup"
    outcome = cleanup_task.delay(365).get()
    assert outcome["messages"] == 1
    assert not Message.objects.filter(pk=history["old"].pk).exists()

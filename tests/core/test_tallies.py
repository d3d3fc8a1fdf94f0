"""Recipient tallies: the database's figures agree with the recipients after every kind of write.

Run on SQLite (row-level triggers) and on PostgreSQL (statement-level
triggers, folding): ``DATABASE_URL=postgres://… pytest tests/core/test_tallies.py``.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from django_smsgo.models import Message, Recipient, RecipientTally
from django_smsgo.services import tallies
from django_smsgo.services.cancelling import cancel_message
from django_smsgo.services.polling import poll_delivery_status
from django_smsgo.services.reports import record_observation
from django_smsgo.services.sending import send_sms
from django_smsgo.simulator.instance import Simulator
from django_smsgo.testing.factories import MessageFactory

R = Recipient.Status

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="folding is PostgreSQL's; SQLite keeps one row"
)


def counted(message: Message) -> dict[str, int]:
    """The message's recipients counted one by one: what the tallies must say."""
    return Recipient.objects.filter(message=message).status_counts()


def tallied(message: Message) -> dict[str, int]:
    return tallies.status_counts([message.pk])[message.pk]


def add_recipients(message: Message, count: int, *, status: str = R.QUEUED) -> None:
    Recipient.objects.bulk_create(
        Recipient(message=message, phone=f"09{message.pk % 100:02d}{n:06d}", status=status)
        for n in range(count)
    )


@pytest.mark.django_db
def test_the_tallies_follow_inserts_moves_and_deletes() -> None:
    message, other = MessageFactory(), MessageFactory()
    add_recipients(message, 30)
    add_recipients(other, 5, status=R.SUBMITTED)
    assert tallied(message) == counted(message) == {R.QUEUED: 30}

    first = list(Recipient.objects.filter(message=message).order_by("pk"))
    Recipient.objects.filter(pk__in=[r.pk for r in first[:20]]).update(status=R.SUBMITTED)
    Recipient.objects.filter(pk__in=[r.pk for r in first[:5]]).update(status=R.DELIVERED)
    # A write that leaves the status as it is changes no figure.
    Recipient.objects.filter(message=message).update(gateway_status="ENROUTE")
    one = first[25]
    one.status = R.CANCELLED
    one.save()
    first[29].delete()
    expected = {R.QUEUED: 8, R.SUBMITTED: 15, R.DELIVERED: 5, R.CANCELLED: 1}
    assert tallied(message) == counted(message) == expected
    assert tallied(other) == counted(other) == {R.SUBMITTED: 5}


@pytest.mark.django_db
def test_a_deleted_message_leaves_no_tally() -> None:
    message = MessageFactory()
    add_recipients(message, 3)
    message.delete()
    assert not RecipientTally.objects.filter(message_id=message.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_sending_polling_reports_and_cancelling_keep_the_tallies(gateway: Simulator) -> None:
    later = timezone.now() + timedelta(days=1)
    # The simulator never settles a number ending in 99: one stays open for a report.
    numbers = [f"09123456{n:02d}" for n in range(59)] + ["0912345699"]
    sent = send_sms(numbers, "Hi")
    scheduled = send_sms(numbers[:10], "Later", send_at=later)
    assert tallied(sent) == counted(sent) == {R.SUBMITTED: 60}

    gateway.advance()
    poll_delivery_status(min_age=0)
    assert tallied(sent) == counted(sent)
    assert counted(sent)[R.DELIVERED] > 0

    still_open = sent.recipients.filter(status=R.SUBMITTED).select_related("batch").first()
    assert still_open is not None
    record_observation(
        msgid=still_open.batch.msgid,
        phone=still_open.phone,
        statuscode=None,
        statusstr="UNDELIV",
        source="callback",
        raw={},
        batch_id=still_open.batch_id,
    )
    assert tallied(sent) == counted(sent)

    cancel_message(scheduled)
    assert tallied(scheduled) == counted(scheduled) == {R.CANCELLED: 10}


@on_postgresql
@pytest.mark.django_db
def test_a_read_folds_a_crowded_message_into_one_row_per_status() -> None:
    message = MessageFactory()
    add_recipients(message, tallies.FOLD_AT + 10)
    for recipient in Recipient.objects.filter(message=message):
        Recipient.objects.filter(pk=recipient.pk).update(status=R.SUBMITTED)
    rows = RecipientTally.objects.filter(message_id=message.pk)
    assert rows.count() > tallies.FOLD_AT

    assert tallied(message) == {R.SUBMITTED: tallies.FOLD_AT + 10}
    assert list(rows.values_list("status", "change")) == [(R.SUBMITTED, tallies.FOLD_AT + 10)]
    assert tallied(message) == counted(message)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_folds_at_once_neither_wait_nor_count_twice() -> None:
    message = MessageFactory()
    add_recipients(message, 40)
    Recipient.objects.filter(message=message, pk__in=Recipient.objects.order_by("pk")[:25]).update(
        status=R.DELIVERED
    )
    folded = threading.Event()
    finish = threading.Event()
    errors: list[BaseException] = []

    def fold_and_hold() -> None:
        try:
            with transaction.atomic():
                tallies.fold([message.pk])
                folded.set()
                finish.wait(10)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
            folded.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=fold_and_hold)
    holder.start()
    assert folded.wait(10)
    # The other fold's rows are locked: this one takes none of them, at once,
    # and a read meanwhile sees the figures the first fold has not committed.
    tallies.fold([message.pk])
    assert tallied(message) == {R.QUEUED: 15, R.DELIVERED: 25}
    finish.set()
    holder.join(10)
    assert errors == []
    assert tallied(message) == counted(message) == {R.QUEUED: 15, R.DELIVERED: 25}
    assert RecipientTally.objects.filter(message_id=message.pk).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_tallies_the_recipients_already_there() -> None:
    executor = MigrationExecutor(connection)
    before = [("django_smsgo", "0011_recipient_open_indexes")]
    latest = executor.loader.graph.leaf_nodes("django_smsgo")
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        message = old.get_model("django_smsgo", "Message").objects.create(body="Hi", body_hash="x")
        old.get_model("django_smsgo", "Recipient").objects.bulk_create(
            old.get_model("django_smsgo", "Recipient")(message=message, phone=phone, status=status)
            for phone, status in [
                ("0912345601", R.DELIVERED),
                ("0912345602", R.DELIVERED),
                ("0912345603", R.FAILED),
            ]
        )
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert tallies.status_counts([message.pk])[message.pk] == {R.DELIVERED: 2, R.FAILED: 1}


@on_postgresql
@pytest.mark.django_db
def test_a_sweep_folds_the_crowded_tallies_of_messages_in_flight() -> None:
    from django_smsgo.services.sweeper import sweep

    in_flight = MessageFactory(status=Message.Status.SUBMITTED)
    settled = MessageFactory(status=Message.Status.COMPLETED)
    for message in (in_flight, settled):
        add_recipients(message, tallies.FOLD_AT + 1)
        for recipient in Recipient.objects.filter(message=message):
            Recipient.objects.filter(pk=recipient.pk).update(status=R.SUBMITTED)

    assert sweep().tallies_folded == 1
    assert RecipientTally.objects.filter(message_id=in_flight.pk).count() == 1
    # A settled message gains no rows: a sweep never reads its tallies.
    assert RecipientTally.objects.filter(message_id=settled.pk).count() > tallies.FOLD_AT
    assert tallied(in_flight) == counted(in_flight)

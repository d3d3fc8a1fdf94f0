"""Delivery reports keep their links whole without foreign-key constraints in the database.

``DeliveryReport.recipient`` and ``.batch`` have no constraint (its check per
inserted report was a fifth of storing polled answers on PostgreSQL): the
ORM's ``on_delete`` and the writers' row locks keep what it guarded. Run on
SQLite and on PostgreSQL: ``DATABASE_URL=postgres://… pytest tests/core/test_report_links.py``.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient
from django_smsgo.services.polling import poll_delivery_status
from django_smsgo.services.sending import send_sms
from django_smsgo.services.states.observation_statement import record, supports
from django_smsgo.services.states.recipient import Observation
from django_smsgo.simulator.instance import Simulator
from django_smsgo.testing.factories import DeliveryReportFactory, RecipientFactory

pytestmark = pytest.mark.django_db

R = Recipient.Status


def orphans() -> int:
    """Reports naming a recipient or a batch that is not there."""
    return (
        DeliveryReport.objects.filter(recipient__isnull=False)
        .exclude(recipient_id__in=Recipient.objects.values("pk"))
        .count()
        + DeliveryReport.objects.filter(batch__isnull=False)
        .exclude(batch_id__in=Batch.objects.values("pk"))
        .count()
    )


def test_the_database_checks_no_report_link() -> None:
    with connection.cursor() as cursor:
        relations = connection.introspection.get_relations(cursor, DeliveryReport._meta.db_table)
    assert relations == {}


def test_deleting_a_message_takes_its_recipients_reports_along() -> None:
    kept = DeliveryReportFactory()
    gone = DeliveryReportFactory.create_batch(3)
    for report in gone:
        assert report.recipient is not None
        report.recipient.message.delete()
    assert list(DeliveryReport.objects.all()) == [kept]
    assert orphans() == 0


def test_deleting_a_recipient_takes_its_reports_and_a_batch_leaves_them_unlinked() -> None:
    report = DeliveryReportFactory()
    other = DeliveryReportFactory()
    assert other.batch is not None
    assert report.recipient is not None
    other.batch.delete()  # its recipients keep no batch either (SET_NULL)
    report.recipient.delete()
    other.refresh_from_db()
    assert other.batch is None
    assert not DeliveryReport.objects.filter(pk=report.pk).exists()
    assert orphans() == 0


@pytest.mark.skipif(not supports("default"), reason="the one-statement path is PostgreSQL's")
def test_the_statement_stores_no_report_for_a_recipient_deleted_before_it() -> None:
    recipient = RecipientFactory(status=R.SUBMITTED)
    assert recipient.batch is not None
    observation = Observation(
        recipient_id=recipient.pk,
        batch_id=recipient.batch_id,
        msgid=recipient.batch.msgid,
        phone=recipient.phone,
        statuscode=0,
        statusstr="DELIVRD",
        raw={},
    )
    Recipient.objects.filter(pk=recipient.pk).delete()
    logged, left = record([observation], alias="default", source="poll", now=timezone.now())
    assert (logged, left) == ([], [])
    assert DeliveryReport.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # outside a transaction: the writer threads' path
def test_polled_reports_go_with_their_message(gateway: Simulator) -> None:
    message = send_sms(["0912345678", "0912345679"], "Hi")
    gone = send_sms(["0912345670", "0912345671"], "Bye")
    gateway.advance()
    poll_delivery_status(min_age=0)
    assert DeliveryReport.objects.count() == 4
    Message.objects.filter(pk=gone.pk).delete()
    assert set(DeliveryReport.objects.values_list("recipient__message", flat=True)) == {message.pk}
    assert orphans() == 0

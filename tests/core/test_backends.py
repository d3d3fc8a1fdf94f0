"""The console and locmem backends, and the gateway backend's life cycle."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

import django_smsgo
from django_smsgo.backends import get_backend
from django_smsgo.backends.console import ConsoleBackend
from django_smsgo.backends.gateway import GatewayBackend
from django_smsgo.backends.locmem import LocmemBackend
from django_smsgo.models import DeliveryReport, Message, Recipient
from django_smsgo.services.cancelling import cancel_message
from django_smsgo.services.outbox import deliver_due
from django_smsgo.services.polling import poll_delivery_status
from django_smsgo.services.sending import send_sms
from django_smsgo.signals import delivery_report_received

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def locmem(configure: Any) -> LocmemBackend:
    configure(BACKEND="django_smsgo.backends.locmem.LocmemBackend")
    django_smsgo.outbox.clear()
    backend = get_backend()
    assert isinstance(backend, LocmemBackend)
    return backend


def test_locmem_backend_fills_the_outbox(locmem: LocmemBackend) -> None:
    message = send_sms([f"0912{n:06d}" for n in range(70)], "Hello from tests")
    assert len(django_smsgo.outbox) == 2
    first = django_smsgo.outbox[0]
    assert first.body == "Hello from tests"
    assert len(first.numbers) == 50
    assert first.message_id == message.pk
    assert message.batches.get(pk=first.batch_id).msgid == first.msgid


def test_locmem_backend_simulates_delivery_reports(locmem: LocmemBackend) -> None:
    received: list[Any] = []

    def record(recipient: Recipient, report: DeliveryReport, **kwargs: Any) -> None:
        received.append((recipient.phone, report.statusstr))

    delivery_report_received.connect(record)
    try:
        message = send_sms(["0912345600", "0912345691"], "Hi")
    finally:
        delivery_report_received.disconnect(record)
    message.refresh_from_db()
    assert dict(message.recipients.values_list("phone", "status")) == {
        "0912345600": Recipient.Status.DELIVERED,
        "0912345691": Recipient.Status.FAILED,
    }
    assert sorted(received) == [("0912345600", "DELIVRD"), ("0912345691", "UNDELIV")]
    sources = set(DeliveryReport.objects.values_list("source", flat=True))
    assert sources == {DeliveryReport.Source.SIMULATED}
    assert message.status == Message.Status.COMPLETED


def test_locmem_scheduled_sends_wait_for_deliver_due(locmem: LocmemBackend) -> None:
    message = send_sms("0912345600", "Later", send_at=timezone.now() + timedelta(hours=1))
    assert message.recipients.get().status == Recipient.Status.SUBMITTED
    assert deliver_due() == 0
    django_smsgo.outbox[0].dlvtime = timezone.now() - timedelta(seconds=1)
    assert deliver_due() == 1
    assert message.recipients.get().status == Recipient.Status.DELIVERED


def test_locmem_query_and_cancel(locmem: LocmemBackend) -> None:
    message = send_sms("0912345699", "Hi")  # never final
    poll_delivery_status(min_age=0)
    assert message.recipients.get().gateway_status == "ENROUTE"
    later = send_sms("0912345600", "Later", send_at=timezone.now() + timedelta(hours=1))
    cancel_message(later)
    later.refresh_from_db()
    assert later.status == Message.Status.CANCELLED
    assert django_smsgo.outbox[-1].cancelled


def test_console_backend_prints_each_request(configure: Any) -> None:
    stream = io.StringIO()
    backend = ConsoleBackend(stream=stream)
    from django_smsgo.services import dispatch
    from django_smsgo.services.sending import plan_send, store

    message = store(plan_send(["0912345678", "0912345679"], "Printed"), queue=False).message
    Message.objects.filter(pk=message.pk).update(status=Message.Status.QUEUED)
    result = dispatch.dispatch_message(message.pk, backend=backend)
    printed = stream.getvalue()
    assert result.submitted == 1
    assert "To: 0912345678, 0912345679" in printed
    assert "Printed" in printed
    assert "s3cret" not in printed
    assert backend.balance() > 0
    assert backend.query_bulk([("1", "0912345691")])[0].statusstr == "UNDELIV"


def test_gateway_backend_is_rebuilt_when_settings_change(configure: Any) -> None:
    configure(API_URL="http://127.0.0.1:9/sms_gw/")
    first = get_backend()
    assert isinstance(first, GatewayBackend)
    assert get_backend() is first  # one client (one connection pool) per process
    configure(API_URL="http://127.0.0.1:10/sms_gw/")
    assert get_backend() is not first

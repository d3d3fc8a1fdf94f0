"""Dispatch and the callback URLs: a report settles what the send's answer did not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services.sending import send_sms
from django_smsgo.simulator.instance import Simulator
from django_smsgo.simulator.records import SimulatorConfig
from tests.core.conftest import send_requests

pytestmark = pytest.mark.django_db(transaction=True)

#: Deliveries wait for ``advance()``: a report must not reach the live server
#: while the test thread is still recording the send (on in-memory SQLite both
#: threads share one connection).
DELIVERY_DELAY = 3600.0


@pytest.fixture
def smsgo_simulator_config() -> SimulatorConfig:
    return SimulatorConfig(
        delivery_delay=DELIVERY_DELAY, callback_retry_delay=0.0, callback_timeout=5.0
    )


@pytest.fixture
def reachable(gateway: Simulator, configure: Any, live_server: Any) -> Iterator[Simulator]:
    """The simulator, with report and reply URLs pointing at a live test server."""
    configure(CALLBACK_BASE_URL=live_server.url)
    yield gateway
    # No callback may reach the server after the test's database is gone.
    gateway.advance(DELIVERY_DELAY)
    assert gateway.wait_for_callbacks(timeout=30)


def test_each_request_carries_its_batch_report_url(reachable: Simulator) -> None:
    message = send_sms("0912345678", "Hi", reply=True)
    batch = message.batches.get()
    (request,) = send_requests(reachable)
    assert f"/smsgo/report/{batch.pk}/" in request["params"]["response"]
    assert f"/smsgo/reply/{batch.pk}/" in request["params"]["replyurl"]
    assert request["params"]["replydays"] == "3"


def test_a_report_settles_an_uncertain_batch(reachable: Simulator) -> None:
    reachable.fault("drop", endpoint="sendsms.aspx", count=1)
    message = send_sms("0912345678", "Hi")
    batch = message.batches.get()
    assert batch.state == Batch.State.UNCERTAIN
    assert batch.msgid == ""
    reachable.advance(DELIVERY_DELAY)
    assert reachable.wait_for_callbacks()
    batch.refresh_from_db()
    message.refresh_from_db()
    # The report URL carried the batch id: the lost answer's msgid is known now.
    assert batch.state == Batch.State.SUBMITTED
    assert batch.msgid == str(reachable.messages[0].msgid)
    assert message.recipients.get().status == Recipient.Status.DELIVERED
    assert message.status == Message.Status.COMPLETED
    assert len(send_requests(reachable)) == 1

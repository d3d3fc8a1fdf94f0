"""Workers that die and workers that race: nothing sent twice, nothing left behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from django_smsgo import send_sms
from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services.polling import poll_delivery_status
from django_smsgo.services.sweeper import sweep
from django_smsgo.simulator.instance import Simulator
from django_smsgo.tasks import dispatch_message
from tests.core.test_claim_ahead import open_claims
from tests.reliability.conftest import wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

SETTLED = (Recipient.Status.DELIVERED, Recipient.Status.FAILED, Recipient.Status.UNCERTAIN)


def phones(count: int, first: int) -> list[str]:
    # Numbers ending 00-90 are delivered by the simulator's outcome rule.
    out: list[str] = []
    n = first
    while len(out) < count:
        if n % 100 < 91:
            out.append(f"09{n:08d}")
        n += 1
    return out


def worker_settings(gateway: Simulator, settings: Any, **extra: Any) -> dict[str, Any]:
    """The ``SMSGO`` keys shared by this process and the workers."""
    smsgo = {
        "API_URL": gateway.base_url,
        "BACKUP_API_URL": None,
        "CALLBACK_BASE_URL": None,
        "SEND_RETRY_BACKOFF": 0.5,
        **extra,
    }
    settings.SMSGO = {**settings.SMSGO, **smsgo}
    return smsgo


def accepted_numbers(gateway: Simulator) -> list[str]:
    """Every number the gateway accepted, once per acceptance."""
    return [number for message in gateway.messages for number in message.receivers]


def test_worker_killed_mid_dispatch_and_restarted(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    gateway.fault("latency", seconds=0.03, count=None)  # a request lasts long enough to be hit
    smsgo = worker_settings(gateway, settings, CLAIM_LEASE=3, ENQUEUE_SWEEP_AGE=1)
    first = start_worker(smsgo, name="killed")
    numbers = phones(5_000, first=10_000_000)
    message = send_sms(numbers, "reliability: killed worker", encoding="ASCII")

    submitted = Batch.objects.filter(message=message, state=Batch.State.SUBMITTED)
    in_flight = Batch.objects.filter(message=message, state=Batch.State.CLAIMED)
    assert wait_until(
        # Aim at a request in flight (claimed, not yet recorded); any moment will do.
        lambda: submitted.count() >= 20 and in_flight.exists(),
        timeout=120,
        interval=0.005,
    ), "dispatch never started"
    first.kill()
    at_kill = {
        "submitted_batches": submitted.count(),
        "claimed_batches": Batch.objects.filter(message=message, state=Batch.State.CLAIMED).count(),
    }
    assert at_kill["submitted_batches"] < 100, "the worker finished before it was killed"

    start_worker(smsgo, name="restarted")
    unsettled = Recipient.objects.filter(message=message, status=Recipient.Status.QUEUED)
    claimed = Batch.objects.filter(message=message, state=Batch.State.CLAIMED)

    def swept_and_done() -> bool:
        # What the periodic sweep does in production: expire the dead claim, re-enqueue.
        sweep()
        return not unsettled.exists() and not claimed.exists()

    assert wait_until(swept_and_done, timeout=180, interval=0.5)
    poll_delivery_status(min_age=0)

    recipients = Recipient.objects.filter(message=message)
    by_status = {
        status: recipients.filter(status=status).count() for status in Recipient.Status.values
    }
    gateway_numbers = accepted_numbers(gateway)
    duplicates = gateway.duplicates()["extra_sends"]
    lost = recipients.exclude(status__in=SETTLED).count()
    figures(
        "worker SIGKILLed mid-dispatch of 5,000, restarted",
        sent=len(numbers),
        acknowledged=by_status["delivered"],
        uncertain=by_status["uncertain"],
        accepted_by_gateway=len(gateway_numbers),
        duplicates=duplicates,
        lost=lost,
        **at_kill,
    )
    assert duplicates == 0
    assert len(gateway_numbers) == len(set(gateway_numbers))
    assert lost == 0
    assert recipients.count() == len(numbers)
    # Each delivered recipient was accepted by the gateway; the only ones it may
    # have got without our knowing are the uncertain ones (the batch in flight).
    delivered = set(
        recipients.filter(status=Recipient.Status.DELIVERED).values_list("phone", flat=True)
    )
    assert delivered <= set(gateway_numbers)
    assert len(gateway_numbers) - len(delivered) <= by_status["uncertain"]
    assert by_status["delivered"] + by_status["uncertain"] == len(numbers)


def test_four_workers_racing_on_500_messages(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    smsgo = worker_settings(gateway, settings)
    for n in range(1, 5):
        start_worker(smsgo, name=f"racer{n}")
    per_message = 60  # two batches each (50 + 10), so two tasks can share a message
    messages: list[Message] = []
    for n in range(500):
        message = send_sms(
            phones(per_message, first=20_000_000 + n * 100),
            f"reliability: race {n}",
            encoding="ASCII",
        )
        dispatch_message.delay(message.pk)  # a second task racing the first
        messages.append(message)

    queued = Recipient.objects.filter(status=Recipient.Status.QUEUED)
    claimed = Batch.objects.filter(state=Batch.State.CLAIMED)
    assert wait_until(lambda: not queued.exists() and not claimed.exists(), timeout=240)

    sent = 500 * per_message
    gateway_numbers = accepted_numbers(gateway)
    send_requests = [r for r in gateway.requests if r["endpoint"] == "sendsms.aspx"]
    duplicates = gateway.duplicates()["extra_sends"]
    submitted = Recipient.objects.filter(status=Recipient.Status.SUBMITTED).count()
    figures(
        "4 workers racing on 500 messages (2 tasks each)",
        sent=sent,
        acknowledged=submitted,
        send_requests=len(send_requests),
        accepted_by_gateway=len(gateway_numbers),
        duplicates=duplicates,
        lost=sent - submitted,
    )
    assert duplicates == 0
    assert len(send_requests) == 500 * 2
    assert len(gateway_numbers) == sent == len(set(gateway_numbers))
    assert submitted == sent


def test_a_worker_killed_with_a_batch_claimed_ahead_leaves_it_unclaimed(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    gateway.fault("slow", endpoint="sendsms.aspx", count=1, seconds=5.0)
    smsgo = worker_settings(
        gateway, settings, CLAIM_LEASE=2, ENQUEUE_SWEEP_AGE=1, DISPATCH_CONNECTIONS=1
    )
    first = start_worker(smsgo, name="killed-ahead")
    numbers = phones(200, first=30_000_000)
    message = send_sms(numbers, "reliability: killed with a claim ahead", encoding="ASCII")
    # The first request waits five seconds at the gateway; the second batch
    # is claimed meanwhile, its transaction open until that request leaves.
    assert wait_until(lambda: open_claims() == 1, timeout=60, interval=0.02), (
        "the run never claimed a batch ahead"
    )
    first.kill()
    # The database rolled the open claim back with the session: one batch exists.
    assert wait_until(lambda: open_claims() == 0, timeout=30)
    batches = list(Batch.objects.filter(message=message).values_list("state", flat=True))
    unclaimed = Recipient.objects.filter(message=message, batch__isnull=True).count()
    assert batches == [Batch.State.CLAIMED]
    assert unclaimed == 150

    start_worker(smsgo, name="after-ahead")
    queued = Recipient.objects.filter(message=message, status=Recipient.Status.QUEUED)

    def swept_and_done() -> bool:
        sweep()
        return not queued.exists()

    assert wait_until(swept_and_done, timeout=120, interval=0.5)
    gateway.wait_for_callbacks()
    by_status = {
        status: Recipient.objects.filter(message=message, status=status).count()
        for status in Recipient.Status.values
    }
    duplicates = gateway.duplicates()["extra_sends"]
    figures(
        "worker SIGKILLed with a batch claimed ahead",
        sent=len(numbers),
        uncertain=by_status["uncertain"],
        submitted=by_status["submitted"] + by_status["delivered"],
        duplicates=duplicates,
    )
    # Only the batch whose request was out is "perhaps sent"; the one claimed
    # ahead went out later, once.
    assert by_status["uncertain"] == 50
    assert by_status["submitted"] + by_status["delivered"] + by_status["failed"] == 150
    assert duplicates == 0

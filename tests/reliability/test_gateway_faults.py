"""An unwell gateway under a real worker: failover, backoff, and no blind re-sends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from django_smsgo import send_sms
from django_smsgo.models import Batch, Recipient
from django_smsgo.services.polling import poll_delivery_status
from django_smsgo.simulator.instance import Simulator
from tests.reliability.conftest import (
    count_secrets,
    false_uncertain,
    wait_until,
    worker_log_texts,
)
from tests.reliability.test_workers import accepted_numbers, phones, worker_settings

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]


def dispatch_done(message: Any) -> Callable[[], bool]:
    queued = Recipient.objects.filter(message=message, status=Recipient.Status.QUEUED)
    claimed = Batch.objects.filter(message=message, state=Batch.State.CLAIMED)
    return lambda: not queued.exists() and not claimed.exists()


def sends_per_number(gateway: Simulator) -> Counter[str]:
    """How many send requests carried each number (accepted or not)."""
    counts: Counter[str] = Counter()
    for request in gateway.requests:
        if request["endpoint"] == "sendsms.aspx":
            counts.update(str(request["params"].get("dstaddr", "")).split(","))
    return counts


def test_primary_refusing_connections_sends_everything_through_the_backup(
    smsgo_simulator_factory: Callable[..., Simulator],
    settings: Any,
    start_worker: Callable[..., Any],
    figures: Callable[..., None],
) -> None:
    primary, backup = smsgo_simulator_factory(), smsgo_simulator_factory()
    smsgo = worker_settings(primary, settings, BACKUP_API_URL=backup.base_url)
    primary.refuse()
    start_worker(smsgo, name="failover")
    numbers = phones(500, first=30_000_000)
    message = send_sms(numbers, "reliability: backup host", encoding="ASCII")
    assert wait_until(dispatch_done(message), timeout=120)

    submitted = Recipient.objects.filter(message=message, status=Recipient.Status.SUBMITTED)
    through_backup = accepted_numbers(backup)
    duplicates = primary.duplicates()["extra_sends"] + backup.duplicates()["extra_sends"]
    figures(
        "primary refusing connections",
        sent=len(numbers),
        acknowledged=submitted.count(),
        via_primary=len(accepted_numbers(primary)),
        via_backup=len(through_backup),
        duplicates=duplicates,
        lost=len(numbers) - submitted.count(),
    )
    assert accepted_numbers(primary) == []
    assert sorted(through_backup) == sorted(numbers)
    assert submitted.count() == len(numbers)
    api_urls = Batch.objects.filter(message=message).values_list("api_url", flat=True)
    assert all(url.startswith(backup.base_url) for url in api_urls)
    assert duplicates == 0


def test_send_failures_are_retried_with_backoff(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator
    smsgo = worker_settings(gateway, settings)
    gateway.fault("code", "sendsms.aspx", count=3, code=-10)  # "send fail": surely not sent
    start_worker(smsgo, name="backoff")
    numbers = phones(120, first=31_000_000)
    message = send_sms(numbers, "reliability: send fail then recovery", encoding="ASCII")
    assert wait_until(dispatch_done(message), timeout=120)

    released = Batch.objects.filter(message=message, reason_code="released")
    submitted = Recipient.objects.filter(message=message, status=Recipient.Status.SUBMITTED)
    send_requests = sum(1 for r in gateway.requests if r["endpoint"] == "sendsms.aspx")
    duplicates = gateway.duplicates()["extra_sends"]
    figures(
        "gateway answering -10 three times",
        sent=len(numbers),
        acknowledged=submitted.count(),
        refused_attempts=released.count(),
        send_requests=send_requests,
        duplicates=duplicates,
        lost=len(numbers) - submitted.count(),
    )
    # Three refused attempts, each followed by a retry of the task, then 3 batches accepted.
    assert released.count() == 3
    assert send_requests == 3 + 3
    assert submitted.count() == len(numbers)
    assert sorted(accepted_numbers(gateway)) == sorted(numbers)
    assert duplicates == 0


@pytest.mark.parametrize(
    ("kind", "carried_out"), [("http500", False), ("drop", True), ("garbage", True)]
)
def test_answers_lost_or_broken_leave_recipients_uncertain_never_resent(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    figures: Callable[..., None],
    kind: str,
    carried_out: bool,
) -> None:
    gateway = smsgo_simulator
    smsgo = worker_settings(gateway, settings)
    gateway.fault(kind, "sendsms.aspx", count=2)
    start_worker(smsgo, name=f"uncertain-{kind}")
    numbers = phones(250, first=32_000_000)
    message = send_sms(numbers, f"reliability: {kind} answers", encoding="ASCII")
    assert wait_until(dispatch_done(message), timeout=120)

    uncertain = Recipient.objects.filter(message=message, status=Recipient.Status.UNCERTAIN)
    submitted = Recipient.objects.filter(message=message, status=Recipient.Status.SUBMITTED)
    carried = accepted_numbers(gateway)
    per_number = sends_per_number(gateway)
    duplicates = gateway.duplicates()["extra_sends"]
    figures(
        f"send answers: {kind} twice",
        sent=len(numbers),
        acknowledged=submitted.count(),
        uncertain=uncertain.count(),
        accepted_by_gateway=len(carried),
        duplicates=duplicates,
        resent=sum(1 for n in numbers if per_number[n] > 1),
        lost=len(numbers) - submitted.count() - uncertain.count(),
    )
    assert uncertain.count() == 100  # the two batches whose answer went wrong
    assert submitted.count() == 150  # the rest, sent by the task's retry
    assert all(per_number[n] == 1 for n in numbers), "a number was sent again"
    assert len(carried) == (250 if carried_out else 150)
    assert duplicates == 0

    # Polling settles the submitted ones (a query failing once is asked again
    # on the next run); the uncertain ones have no msgid to ask about and stay
    # uncertain until a delivery report or staff settles them.
    gateway.fault("http500", "queryBulk.asp", count=1)
    poll_delivery_status(min_age=0)
    poll_delivery_status(min_age=0)
    delivered = Recipient.objects.filter(message=message, status=Recipient.Status.DELIVERED)
    assert delivered.count() == 150
    assert uncertain.count() == 100
    again = sends_per_number(gateway)
    assert all(again[n] == 1 for n in numbers), "polling made a number be sent again"


def test_a_gateway_hanging_past_the_read_timeout_leaves_uncertain_never_resent(
    smsgo_simulator: Simulator,
    settings: Any,
    start_worker: Callable[..., Any],
    worker_logs: Any,
    figures: Callable[..., None],
) -> None:
    # The gateway takes two sends and answers after 4 s; the worker reads for 1 s.
    gateway = smsgo_simulator
    smsgo = worker_settings(gateway, settings, READ_TIMEOUT=1.0)
    gateway.fault("slow", "sendsms.aspx", count=2, seconds=4.0)  # a slow answer is carried out
    start_worker(smsgo, name="hang")
    numbers = phones(1_000, first=33_000_000)
    message = send_sms(numbers, "reliability: gateway hangs", encoding="ASCII")
    assert wait_until(dispatch_done(message), timeout=120)
    # The simulator logs a request once it has answered it, 4 s after it came.
    assert wait_until(lambda: len(sends_per_number(gateway)) >= len(numbers), timeout=30)

    uncertain = list(
        Recipient.objects.filter(message=message, status=Recipient.Status.UNCERTAIN).values_list(
            "phone", flat=True
        )
    )
    submitted = Recipient.objects.filter(message=message, status=Recipient.Status.SUBMITTED)
    per_number = sends_per_number(gateway)
    duplicates = gateway.duplicates()["extra_sends"]
    secrets = count_secrets(worker_log_texts(worker_logs), [str(settings.SMSGO["PASSWORD"])])
    figures(
        "gateway hangs 4 s (read timeout 1 s) on 2 sends",
        recipients=len(numbers),
        acknowledged=submitted.count(),
        uncertain=len(uncertain),
        accepted_by_gateway=len(accepted_numbers(gateway)),
        duplicates=duplicates,
        resent=sum(1 for n in numbers if per_number[n] > 1),
        lost=len(numbers) - submitted.count() - len(uncertain),
        false_uncertain=false_uncertain(uncertain, per_number),
        secrets=secrets,
    )
    assert len(uncertain) == 100  # whatever the gateway did, the app cannot know
    assert submitted.count() == 900
    assert all(per_number[n] == 1 for n in numbers), "a number was sent again"
    assert len(accepted_numbers(gateway)) == 1_000
    assert false_uncertain(uncertain, per_number) == 0
    assert duplicates == 0
    assert secrets == 0

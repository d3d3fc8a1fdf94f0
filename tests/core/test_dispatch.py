"""Dispatch against the bundled simulator: batching, claims, retries, refusals, uncertainty."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.models import BalanceSnapshot, Batch, Message, Recipient
from django_smsgo.services import dispatch, sweeper
from django_smsgo.services.sending import send_sms
from django_smsgo.services.states import batch as batch_state
from django_smsgo.simulator.instance import Simulator
from tests.celery_app import app as celery_app
from tests.core.conftest import send_requests

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _one_request_at_a_time(configure: Any) -> None:
    # A fault "on the first request" must hit the first batch: with several
    # requests in flight which one the gateway takes first is up to chance.
    # The tests of requests in flight set DISPATCH_CONNECTIONS themselves.
    configure(DISPATCH_CONNECTIONS=1)


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"0912{n:06d}" for n in range(start, start + count)]


def statuses(message: Message) -> dict[str, int]:
    result: dict[str, int] = {}
    for status in message.recipients.values_list("status", flat=True):
        result[status] = result.get(status, 0) + 1
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_recipients_go_in_requests_of_fifty(gateway: Simulator) -> None:
    message = send_sms(numbers(120), "Hello")
    message.refresh_from_db()
    requests = send_requests(gateway)
    assert [len(r["params"]["dstaddr"].split(",")) for r in requests] == [50, 50, 20]
    assert all(r["params"]["smbody"] == "Hello" for r in requests)
    assert message.status == Message.Status.SUBMITTED
    assert statuses(message) == {"submitted": 120}
    assert message.batches.filter(state=Batch.State.SUBMITTED).count() == 3
    assert set(message.batches.values_list("msgid", flat=True)) == {
        str(m.msgid) for m in gateway.messages
    }
    assert message.points_charged == 120
    assert gateway.duplicates()["extra_sends"] == 0


def test_ten_thousand_numbers_make_exactly_200_send_requests(gateway: Simulator) -> None:
    gateway.add_account("tester", "s3cret-Pa55word", 20_000)
    message = send_sms(numbers(10_000), "Campaign")
    message.refresh_from_db()
    assert len(send_requests(gateway)) == 200
    assert statuses(message) == {"submitted": 10_000}
    assert gateway.duplicates() == {"pairs": 0, "extra_sends": 0}
    # One pooled keep-alive connection, not one per request.
    assert gateway.state.connections_opened <= 2


def test_a_redelivered_task_sends_nothing(gateway: Simulator) -> None:
    message = send_sms(numbers(60), "Hello")
    from django_smsgo.tasks import dispatch_message

    dispatch_message.apply(args=[message.pk])
    dispatch_message.apply(args=[message.pk])
    assert len(send_requests(gateway)) == 2
    assert gateway.duplicates()["extra_sends"] == 0


def claim(message: Message) -> batch_state.Claim | None:
    return batch_state.claim(message, lease=timedelta(seconds=300), now=timezone.now())


def test_claims_never_overlap() -> None:
    message = _stored_message(numbers(120))
    first = claim(message)
    second = claim(message)
    third = claim(message)
    assert first
    assert second
    assert third
    sizes = [c.batch.recipients.count() for c in (first, second, third)]
    assert sizes == [50, 50, 20]
    assert [len(c.numbers) for c in (first, second, third)] == [50, 50, 20]
    assert first.numbers == tuple(numbers(50))
    assert claim(message) is None
    claimed = Recipient.objects.filter(message=message, batch__isnull=False).count()
    assert claimed == 120


def _stored_message(to: list[str], **kwargs: Any) -> Message:
    from django_smsgo.services.sending import plan_send, store

    return store(plan_send(to, "Hello", **kwargs), queue=False).message


def test_uncertain_outcome_is_never_resent(gateway: Simulator) -> None:
    gateway.fault("drop", endpoint="sendsms.aspx", count=1)
    message = send_sms(numbers(80), "Hello")
    message.refresh_from_db()
    requests = send_requests(gateway)
    # The dropped request was seen exactly once (no library retry), the rest
    # were sent by the retry, and the dropped batch was never sent again.
    assert len(requests) == 2
    first = message.batches.order_by("pk").first()
    assert first is not None
    assert first.state == Batch.State.UNCERTAIN
    assert first.recipients.filter(status=Recipient.Status.UNCERTAIN).count() == 50
    assert statuses(message) == {"uncertain": 50, "submitted": 30}
    assert message.status == Message.Status.UNCERTAIN
    assert gateway.duplicates()["extra_sends"] == 0
    # The simulator did accept it (it was "perhaps sent" indeed).
    assert len(gateway.messages) == 2


def test_dropped_answer_is_seen_once_by_the_gateway(gateway: Simulator) -> None:
    gateway.fault("drop", endpoint="sendsms.aspx", count=1)
    result = dispatch.dispatch_message(_queued(numbers(3)).pk, final_attempt=True)
    assert result.uncertain == 1
    assert len(send_requests(gateway)) == 1


def _queued(to: list[str], **kwargs: Any) -> Message:
    from django_smsgo.services.sending import plan_send, store

    message = store(plan_send(to, "Hello", **kwargs), queue=False).message
    Message.objects.filter(pk=message.pk).update(status=Message.Status.QUEUED)
    message.refresh_from_db()
    return message


@pytest.mark.parametrize("kind", ["http500", "garbage", "slow"])
def test_unknown_outcomes_mark_uncertain(gateway: Simulator, configure: Any, kind: str) -> None:
    configure(READ_TIMEOUT=0.5)
    gateway.fault(kind, endpoint="sendsms.aspx", count=1, seconds=2.0)
    message = _queued(numbers(3))
    result = dispatch.dispatch_message(message.pk)
    message.refresh_from_db()
    assert result.uncertain == 1
    assert result.submitted == 0
    assert statuses(message) == {"uncertain": 3}
    assert message.status == Message.Status.UNCERTAIN
    # A slow answer is audited when the simulator finishes it.
    assert wait_until(lambda: len(send_requests(gateway)) == 1)
    assert len(send_requests(gateway)) == 1


def wait_until(condition: Any, limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_gateway_send_fail_is_retried_with_backoff(gateway: Simulator) -> None:
    gateway.fault("code", endpoint="sendsms.aspx", count=2, code=-10)
    message = send_sms(numbers(3), "Hello")
    message.refresh_from_db()
    assert [r["carried_out"] for r in send_requests(gateway)] == [False, False, True]
    assert message.status == Message.Status.SUBMITTED
    assert statuses(message) == {"submitted": 3}
    released = message.batches.filter(state=Batch.State.FAILED)
    assert released.count() == 2
    assert all("released for a retry" in b.reason_text for b in released)


def test_unreachable_gateway_fails_after_the_last_retry(configure: Any) -> None:
    configure(
        API_URL=f"http://127.0.0.1:{free_port()}/sms_gw/",
        BACKUP_API_URL=None,
        SEND_RETRY_MAX=2,
        CONNECT_TIMEOUT=1.0,
    )
    message = send_sms(numbers(3), "Hello")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert statuses(message) == {"failed": 3}
    reason = message.recipients.first().reason_text  # type: ignore[union-attr]
    assert reason.startswith("not sent:")
    assert "could not be reached" in reason
    assert message.batches.count() == 3  # first try + 2 retries


def test_connect_failure_fails_over_to_the_backup_host(
    smsgo_simulator_factory: Any, configure: Any
) -> None:
    backup = smsgo_simulator_factory()
    configure(API_URL=f"http://127.0.0.1:{free_port()}/sms_gw/", BACKUP_API_URL=backup.base_url)
    message = send_sms(numbers(3), "Hello")
    message.refresh_from_db()
    assert message.status == Message.Status.SUBMITTED
    assert message.batches.get().api_url == backup.base_url


@pytest.mark.parametrize("code", [-1, -5, -7, -9])
def test_permanent_refusal_fails_the_batch_with_the_reason(gateway: Simulator, code: int) -> None:
    gateway.fault("code", endpoint="sendsms.aspx", count=1, code=code)
    message = send_sms(numbers(60), "Hello")
    message.refresh_from_db()
    first = message.batches.order_by("pk").first()
    assert first is not None
    assert first.state == Batch.State.FAILED
    assert first.statuscode == code
    failed = message.recipients.filter(status=Recipient.Status.FAILED)
    assert failed.count() == 50
    assert all(f"gateway code {code}" in r.reason_text for r in failed)
    assert statuses(message) == {"failed": 50, "submitted": 10}
    assert len(send_requests(gateway)) == 2  # not retried


@pytest.mark.parametrize("code", [-2, -8])
def test_account_level_refusal_fails_the_whole_message(
    gateway: Simulator, configure: Any, code: int
) -> None:
    configure(DISPATCH_CONNECTIONS=1)
    gateway.fault("code", endpoint="sendsms.aspx", count=1, code=code)
    message = send_sms(numbers(120), "Hello")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert f"gateway code {code}" in message.reason_text
    assert statuses(message) == {"failed": 120}
    assert len(send_requests(gateway)) == 1


def test_an_account_refusal_stops_new_requests_with_several_in_flight(
    gateway: Simulator, configure: Any
) -> None:
    """Of K requests in flight when the account is refused, none more is started."""
    configure(DISPATCH_CONNECTIONS=3)
    gateway.fault("code", endpoint="sendsms.aspx", count=1, code=-8)
    message = send_sms(numbers(500), "Hello")
    message.refresh_from_db()
    sent = len(send_requests(gateway))
    assert 1 <= sent <= 3
    assert statuses(message)["failed"] == 500 - 50 * (sent - 1)
    assert gateway.duplicates()["extra_sends"] == 0


@pytest.mark.parametrize("connections", [1, 2, 4])
def test_requests_in_flight_send_each_number_once(
    gateway: Simulator, configure: Any, connections: int
) -> None:
    configure(DISPATCH_CONNECTIONS=connections)
    gateway.add_account("tester", "s3cret-Pa55word", 20_000)
    message = send_sms(numbers(1_000), "Campaign")
    message.refresh_from_db()
    assert len(send_requests(gateway)) == 20
    assert statuses(message) == {"submitted": 1_000}
    assert gateway.duplicates() == {"pairs": 0, "extra_sends": 0}
    assert gateway.state.connections_opened <= connections + 1


def test_wrong_password_fails_with_the_authorisation_reason(
    gateway: Simulator, configure: Any
) -> None:
    configure(PASSWORD="wrong-password")
    message = send_sms(numbers(2), "Hello")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "gateway code -2" in message.reason_text
    assert "wrong-password" not in message.reason_text


def test_expired_message_is_not_sent(gateway: Simulator) -> None:
    message = _queued(numbers(2), expires_at=timezone.now() + timedelta(minutes=5))
    Message.objects.filter(pk=message.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    dispatch.dispatch_message(message.pk)
    message.refresh_from_db()
    assert send_requests(gateway) == []
    assert message.status == Message.Status.FAILED
    assert statuses(message) == {"failed": 2}
    assert message.recipients.first().reason_text.startswith("expired")  # type: ignore[union-attr]


def test_unaffordable_message_is_refused_after_one_balance_refresh(gateway: Simulator) -> None:
    gateway.add_account("tester", "s3cret-Pa55word", 30)
    message = _queued(numbers(60))
    BalanceSnapshot.objects.create(points=10)  # stale and low: refresh once
    dispatch.dispatch_message(message.pk)
    message.refresh_from_db()
    assert send_requests(gateway) == []
    assert [r["endpoint"] for r in gateway.requests] == ["query_point.asp"]
    assert message.status == Message.Status.FAILED
    assert "not enough points" in message.reason_text
    assert statuses(message) == {"failed": 60}


def test_stale_low_balance_is_refreshed_and_the_send_goes_on(gateway: Simulator) -> None:
    message = _queued(numbers(60))
    BalanceSnapshot.objects.create(points=10)
    dispatch.dispatch_message(message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.SUBMITTED
    assert len(send_requests(gateway)) == 2


def test_expired_lease_becomes_uncertain_never_queued(gateway: Simulator) -> None:
    message = _queued(numbers(60))
    claimed = claim(message)  # a worker claimed, then died
    assert claimed is not None
    batch = claimed.batch
    Batch.objects.filter(pk=batch.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    result = sweeper.sweep()
    assert result.expired_batches == [batch.pk]
    batch.refresh_from_db()
    assert batch.state == Batch.State.UNCERTAIN
    assert set(batch.recipients.values_list("status", flat=True)) == {"uncertain"}
    # Dispatch continues with what was never claimed, and never the dead batch.
    dispatch.dispatch_message(message.pk)
    message.refresh_from_db()
    assert statuses(message) == {"uncertain": 50, "submitted": 10}
    sent = send_requests(gateway)
    assert len(sent) == 1
    assert len(sent[0]["params"]["dstaddr"].split(",")) == 10


def test_late_answer_after_lease_expiry_still_settles_the_batch(gateway: Simulator) -> None:
    message = _queued(numbers(2))
    claimed = claim(message)
    assert claimed is not None
    Batch.objects.filter(pk=claimed.batch.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sweeper.expire_leases()
    from django_smsgo.backends import get_backend

    outcome = dispatch.send_batch(message, claimed, get_backend())
    assert outcome == dispatch.BatchOutcome.SUBMITTED
    assert statuses(message) == {"submitted": 2}


def test_sweeper_reenqueues_a_message_whose_enqueue_was_lost(
    gateway: Simulator, configure: Any
) -> None:
    configure(ENQUEUE_SWEEP_AGE=60)
    message = _queued(numbers(3))  # stored, but its enqueue never reached the broker
    Message.objects.filter(pk=message.pk).update(
        dispatch_due_at=timezone.now() - timedelta(seconds=30)
    )
    assert sweeper.sweep().reenqueued == []  # not overdue yet
    Message.objects.filter(pk=message.pk).update(
        dispatch_due_at=timezone.now() - timedelta(seconds=61)
    )
    assert sweeper.sweep().reenqueued == [message.pk]
    message.refresh_from_db()
    assert message.status == Message.Status.SUBMITTED
    assert len(send_requests(gateway)) == 1
    assert sweeper.sweep().reenqueued == []


@contextmanager
def published(receiver: Callable[..., None]) -> Iterator[None]:
    """Publish tasks to the broker for real (not eagerly), telling ``receiver`` about each.

    The test settings' broker: in memory by default, Redis in CI; what was
    published is purged afterwards so no worker ever runs it.
    """
    from celery.signals import before_task_publish

    queues: set[str] = set()

    def remember(routing_key: str | None = None, **kwargs: Any) -> None:
        queues.add(routing_key or "celery")
        receiver(routing_key=routing_key, **kwargs)

    before_task_publish.connect(remember)
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved
        before_task_publish.disconnect(remember)
        with celery_app.connection_for_write() as conn:
            for queue in queues:
                conn.default_channel.queue_purge(queue)


def test_priority_routes_to_its_queue(configure: Any, gateway: Simulator) -> None:
    configure(PRIORITY_QUEUES={"high": "sms-otp", "normal": None, "low": "sms-bulk"}, QUEUE="sms")
    from django_smsgo.tasks import queue_for

    assert queue_for("high") == "sms-otp"
    assert queue_for("low") == "sms-bulk"
    assert queue_for("normal") == "sms"
    sent: list[dict[str, Any]] = []

    def record(sender: Any = None, headers: Any = None, routing_key: Any = None, **kw: Any) -> None:
        sent.append({"task": headers.get("task") if headers else None, "routing_key": routing_key})

    with published(record):
        send_sms("0912345678", "Code 1234", priority="high")
    assert sent
    assert sent[0]["routing_key"] == "sms-otp"


def test_task_arguments_carry_only_the_primary_key(gateway: Simulator) -> None:

    bodies: list[Any] = []

    def record(body: Any = None, **kwargs: Any) -> None:
        bodies.append(body)

    with published(record):
        message = send_sms("0912345678", "Secret code 9876")
    args, kwargs, _ = bodies[0]
    assert args == [message.pk]
    assert kwargs == {}
    assert "9876" not in repr(bodies[0])
    assert "s3cret" not in repr(bodies[0])


@pytest.mark.parametrize(
    ("tasks", "recipients", "expected"), [(4, 500, 4), (4, 120, 3), (4, 50, 1)]
)
def test_a_large_message_is_shared_by_dispatch_tasks(
    configure: Any, gateway: Simulator, tasks: int, recipients: int, expected: int
) -> None:
    configure(DISPATCH_TASKS=tasks)
    published_for: list[Any] = []

    def record(body: Any = None, **kwargs: Any) -> None:
        published_for.append(body[0])

    with published(record):
        message = send_sms(numbers(recipients), "Shared")
    # Never more tasks than batches: each extra one would find nothing to claim.
    assert published_for == [[message.pk]] * expected


def test_dispatch_tasks_share_the_batches_without_sending_twice(
    configure: Any, gateway: Simulator
) -> None:
    configure(DISPATCH_TASKS=4)
    message = send_sms(numbers(500), "Shared")
    assert len(send_requests(gateway)) == 10
    assert gateway.duplicates() == {"pairs": 0, "extra_sends": 0}
    assert statuses(message) == {"submitted": 500}


def test_override_sends_each_sms_to_the_staging_number_once_per_request(
    gateway: Simulator, configure: Any
) -> None:
    configure(OVERRIDE_RECIPIENTS=["0900000001"])
    message = send_sms(numbers(3), "Staging")
    requests = send_requests(gateway)
    assert [r["params"]["dstaddr"] for r in requests] == ["0900000001"] * 3
    assert set(message.recipients.values_list("intended_phone", flat=True)) == set(numbers(3))


def test_staff_resend_of_uncertain_recipients_is_a_new_message(gateway: Simulator) -> None:
    from django_smsgo.services.sending import resend_recipients

    gateway.fault("drop", endpoint="sendsms.aspx", count=1)
    message = _queued(numbers(3))
    dispatch.dispatch_message(message.pk, final_attempt=True)
    uncertain = list(message.recipients.filter(status=Recipient.Status.UNCERTAIN))
    assert len(uncertain) == 3
    resent = resend_recipients(uncertain[:2])
    resent.refresh_from_db()
    assert resent.pk != message.pk
    assert resent.resend_of_id == message.pk
    assert sorted(resent.recipients.values_list("phone", flat=True)) == numbers(2)
    assert resent.status == Message.Status.SUBMITTED
    # The original recipients stay uncertain: nothing is re-sent implicitly.
    assert message.recipients.filter(status=Recipient.Status.UNCERTAIN).count() == 3


def test_submitted_and_failed_signals_after_commit(gateway: Simulator) -> None:
    from django.contrib.auth import get_user_model

    from django_smsgo.signals import message_failed, message_submitted

    seen: list[tuple[str, Any]] = []

    def on_submitted(message: Message, batch: Batch, **kwargs: Any) -> None:
        seen.append(("submitted", batch.msgid))

    def on_failed(message: Message, reason: str, **kwargs: Any) -> None:
        seen.append(("failed", reason))

    message_submitted.connect(on_submitted)
    message_failed.connect(on_failed)
    try:
        user = get_user_model().objects.create(username="staff")
        sent = send_sms(numbers(2), "Hello", created_by=user)
        gateway.fault("code", endpoint="sendsms.aspx", count=1, code=-8)
        send_sms(numbers(2, start=10), "Hello")
    finally:
        message_submitted.disconnect(on_submitted)
        message_failed.disconnect(on_failed)
    assert sent.created_by == user
    assert seen[0] == ("submitted", sent.batches.get().msgid)
    assert seen[1][0] == "failed"
    assert "gateway code -8" in seen[1][1]
    assert len(seen) == 2


def test_sweeper_settles_a_message_whose_worker_died_before_settling(
    gateway: Simulator, configure: Any
) -> None:
    configure(ENQUEUE_SWEEP_AGE=60)
    message = _queued(numbers(3))
    dispatch.dispatch_message(message.pk)
    # As if the worker had died between recording the batch and settling.
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING, dispatch_due_at=timezone.now() - timedelta(seconds=61)
    )
    assert sweeper.sweep().settled == [message.pk]
    message.refresh_from_db()
    assert message.status == Message.Status.SUBMITTED
    assert len(send_requests(gateway)) == 1


def test_balance_check_failure_before_the_first_request_is_retried(gateway: Simulator) -> None:
    message = _queued(numbers(60))
    BalanceSnapshot.objects.create(points=10)
    gateway.fault("http500", endpoint="query_point.asp", count=1)
    first = dispatch.dispatch_message(message.pk)
    assert first.retry
    assert "HTTP 500" in first.reason
    assert send_requests(gateway) == []
    second = dispatch.dispatch_message(message.pk)
    assert second.submitted == 2


def test_a_failure_after_the_claim_and_before_the_request_releases_the_claim(
    gateway: Simulator, configure: Any
) -> None:
    # A reply URL that cannot be built is only found when the batch has its id.
    configure(CALLBACK_BASE_URL="https://" + "a" * 280 + ".tw")
    message = _queued(numbers(60), reply=True)
    dispatch.dispatch_message(message.pk)
    message.refresh_from_db()
    assert send_requests(gateway) == []
    assert statuses(message) == {"failed": 60}  # never "uncertain": nothing left
    assert not message.batches.filter(state__in=[Batch.State.CLAIMED, Batch.State.UNCERTAIN])
    assert message.status == Message.Status.FAILED
    assert message.reason_code == "misconfigured"
    assert "300" in message.reason_text


def test_the_request_needs_no_database_read_after_its_claim(gateway: Simulator) -> None:
    """A database that fails once the claim is committed cannot leave a batch 'perhaps sent'."""
    from django.db import OperationalError, connection

    def fail_reading_a_batch(execute: Any, sql: str, params: Any, many: bool, ctx: Any) -> Any:
        # The numbers of a claimed batch, read back by its id.
        recipients = 'FROM "django_smsgo_recipient"' in sql
        if sql.startswith("SELECT") and recipients and '"batch_id" = ' in sql:
            raise OperationalError("the database went away")
        return execute(sql, params, many, ctx)

    message = _queued(numbers(3))
    with connection.execute_wrapper(fail_reading_a_batch):
        dispatch.dispatch_message(message.pk)
    assert statuses(message) == {"submitted": 3}
    assert len(send_requests(gateway)) == 1


@pytest.mark.parametrize("connections", [1, 2, 4])
def test_a_refused_batch_does_not_stop_the_others(
    gateway: Simulator, configure: Any, connections: int
) -> None:
    configure(DISPATCH_CONNECTIONS=connections)
    gateway.fault("code", endpoint="sendsms.aspx", count=1, code=-5)
    message = send_sms(numbers(500), "Hello")
    message.refresh_from_db()
    assert statuses(message) == {"failed": 50, "submitted": 450}
    assert len(send_requests(gateway)) == 10
    assert message.status == Message.Status.COMPLETED or message.status == Message.Status.SUBMITTED

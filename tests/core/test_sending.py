"""send_sms(): validation, guards, storage and enqueue-on-commit."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import django_smsgo
from django_smsgo.exceptions import (
    EmptyBodyError,
    InvalidNumberError,
    MessageTooLongError,
    OptionNotAllowedError,
    ScheduleError,
    SmsgoValidationError,
    UnencodableTextError,
)
from django_smsgo.models import BalanceSnapshot, Message, Recipient, Suppression
from django_smsgo.services.errors import DuplicateMessageError, InsufficientBalanceError
from django_smsgo.services.sending import (
    check_duplicates,
    create_draft,
    queue_message,
    send_mass_sms,
    send_sms,
)
from tests.core.conftest import send_requests

pytestmark = pytest.mark.django_db


def nothing_stored() -> bool:
    return not Message.objects.exists() and not Recipient.objects.exists()


# --- validation: a bad input raises before anything is stored ---------------------------------


def test_every_bad_number_is_named_in_one_error() -> None:
    with pytest.raises(InvalidNumberError) as caught:
        send_sms(["0912345678", "12345", "0912-abc", "+1"], "Hi")
    bad = [value for value, _ in caught.value.invalid]
    assert bad == ["12345", "0912-abc", "+1"]
    assert "12345" in str(caught.value)
    assert "0912-abc" in str(caught.value)
    assert nothing_stored()


def test_numbers_are_normalised_and_deduplicated(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        message = send_sms(["0912-345-678", "+886 912 345 678", "(0912)345679"], "Hi")
    phones = list(message.recipients.values_list("phone", flat=True))
    assert phones == ["0912345678", "0912345679"]
    assert message.recipient_count == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"body": ""}, EmptyBodyError),
        ({"body": "x" * 400}, MessageTooLongError),
        ({"body": "中" * 71, "encoding": "BIG5"}, MessageTooLongError),
        ({"body": "中文", "encoding": "ASCII"}, UnencodableTextError),
        ({"body": "Hi", "encoding": "KLINGON"}, SmsgoValidationError),
        ({"body": "Hi", "send_at": "tomorrow"}, ScheduleError),
        ({"body": "Hi", "priority": "urgent"}, OptionNotAllowedError),
        ({"body": "Hi", "reply_days": 3}, OptionNotAllowedError),
        ({"body": "Hi", "reply": True}, OptionNotAllowedError),  # no CALLBACK_BASE_URL
        ({"body": "Hi", "encoding": "PUSH"}, OptionNotAllowedError),  # PUSH needs wap_url
        (
            {"body": "Hi", "wap_url": "https://x.example/", "encoding": "BIG5"},
            OptionNotAllowedError,
        ),
    ],
)
def test_validation_errors_store_nothing(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        send_sms("0912345678", **kwargs)
    assert nothing_stored()


def test_naive_and_past_schedules_are_refused() -> None:
    naive = timezone.now().replace(tzinfo=None) + timedelta(hours=1)
    with pytest.raises(ScheduleError, match="aware"):
        send_sms("0912345678", "Hi", send_at=naive)
    with pytest.raises(ScheduleError, match="future"):
        send_sms("0912345678", "Hi", send_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ScheduleError, match="expires_at"):
        send_sms("0912345678", "Hi", expires_at=timezone.now() - timedelta(seconds=1))
    later = timezone.now() + timedelta(hours=2)
    with pytest.raises(ScheduleError, match="after send_at"):
        send_sms("0912345678", "Hi", send_at=later, expires_at=later - timedelta(minutes=1))
    assert nothing_stored()


def test_international_number_with_long_encoding_is_refused() -> None:
    with pytest.raises(OptionNotAllowedError, match="international"):
        send_sms(["0912345678", "+8613681912700"], "x" * 200)
    assert nothing_stored()


def test_long_text_picks_the_long_encoding_and_counts_segments(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        message = send_sms(["0912345678", "0912345679"], "x" * 200)
    assert message.encoding == "LASCI"
    assert message.segments == 2
    assert message.estimated_points == 4


# --- idempotency -------------------------------------------------------------------------------


def test_idempotency_key_returns_the_first_message_and_sends_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as first_callbacks:
        first = send_sms("0912345678", "Your code is 1234", idempotency_key="otp-1")
    with django_capture_on_commit_callbacks(execute=False) as second_callbacks:
        second = send_sms("0912345678", "Your code is 1234", idempotency_key="otp-1")
    assert second.pk == first.pk
    assert Message.objects.count() == 1
    assert len(first_callbacks) == 1
    assert second_callbacks == []


def test_idempotency_race_is_settled_inside_the_store_transaction(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A caller that passed the first lookup but comes second gets the winner's message."""
    from django_smsgo.services import sending

    plan = sending.plan_send("0912345678", "Hi", idempotency_key="race")
    with django_capture_on_commit_callbacks(execute=False):
        winner = sending.store(plan, queue=True)
        loser = sending.store(plan, queue=True)
    assert (winner.created, loser.created) == (True, False)
    assert loser.message.pk == winner.message.pk
    assert Message.objects.count() == 1
    assert Recipient.objects.count() == 1


# --- transaction and enqueue -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_send_in_a_transaction_that_rolls_back_sends_nothing(gateway: Any) -> None:
    def view() -> None:
        with transaction.atomic():
            send_sms("0912345678", "Hi")
            raise RuntimeError("the view failed after send_sms()")

    with pytest.raises(RuntimeError):
        view()
    assert nothing_stored()
    assert send_requests(gateway) == []


@pytest.mark.django_db(transaction=True)
def test_dispatch_is_enqueued_on_commit(gateway: Any) -> None:
    with transaction.atomic():
        message = send_sms(["0912345678", "0912345679"], "Hi")
        assert send_requests(gateway) == []  # not before commit
    message.refresh_from_db()
    assert len(send_requests(gateway)) == 1
    assert message.status == Message.Status.SUBMITTED


# --- suppression, duplicates, balance ----------------------------------------------------------


def test_suppressed_numbers_are_stored_cancelled_with_the_reason(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Suppression.objects.create(phone="0912345679", reason=Suppression.Reason.OPT_OUT)
    with django_capture_on_commit_callbacks(execute=False):
        message = send_sms(["0912345678", "0912345679"], "Sale today")
    cancelled = message.recipients.get(phone="0912345679")
    assert cancelled.status == Recipient.Status.CANCELLED
    assert "opt-out" in cancelled.reason_text
    assert message.recipients.get(phone="0912345678").status == Recipient.Status.QUEUED
    assert message.estimated_points == 1


def test_transactional_messages_reach_suppressed_numbers(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Suppression.objects.create(phone="0912345679", reason=Suppression.Reason.OPT_OUT)
    with django_capture_on_commit_callbacks(execute=False):
        message = send_sms("0912345679", "Your code is 1234", kind="transactional")
    assert message.recipients.get().status == Recipient.Status.QUEUED


def test_all_suppressed_message_is_cancelled_at_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Suppression.objects.create(phone="0912345679", reason=Suppression.Reason.MANUAL)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = send_sms("0912345679", "Sale")
    assert message.status == Message.Status.CANCELLED
    assert callbacks == []


def test_duplicate_guard_names_the_numbers(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        send_sms(["0912345678", "0912345679"], "Same text")
        with pytest.raises(DuplicateMessageError) as caught:
            send_sms(["0912345679", "0912345670"], "Same text")
    assert caught.value.numbers == ["0912345679"]
    assert "0912345679" in str(caught.value)
    assert "allow_duplicate" in str(caught.value)
    assert Message.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=False):
        send_sms(["0912345679"], "Same text", allow_duplicate=True)
        send_sms(["0912345679"], "Another text")
    assert Message.objects.count() == 3


def test_a_large_send_of_a_new_text_asks_the_duplicate_guard_once() -> None:
    numbers = [f"0912{n:06d}" for n in range(2_500)]
    with CaptureQueriesContext(connection) as queries:
        check_duplicates(numbers, "A text nobody got", overridden=False, now=timezone.now())
    # One look for the text, not one query per thousand numbers.
    assert len(queries.captured_queries) == 1


def test_a_large_send_still_refuses_the_one_number_that_got_the_text(
    django_capture_on_commit_callbacks: Any,
) -> None:
    numbers = [f"0912{n:06d}" for n in range(2_500)]
    with django_capture_on_commit_callbacks(execute=False):
        send_sms(numbers[2_345], "Same text")
        with pytest.raises(DuplicateMessageError) as caught:
            send_sms(numbers, "Same text")
    assert caught.value.numbers == [numbers[2_345]]
    assert Message.objects.count() == 1


def test_duplicate_window_is_configurable(
    configure: Any, django_capture_on_commit_callbacks: Any
) -> None:
    configure(DUPLICATE_WINDOW=60)
    with django_capture_on_commit_callbacks(execute=False):
        first = send_sms("0912345678", "Same text")
    Recipient.objects.filter(message=first).update(
        created_at=timezone.now() - timedelta(seconds=61)
    )
    with django_capture_on_commit_callbacks(execute=False):
        send_sms("0912345678", "Same text")
    configure(DUPLICATE_WINDOW=0)
    with django_capture_on_commit_callbacks(execute=False):
        send_sms("0912345678", "Same text")
    assert Message.objects.count() == 3


def test_balance_guard_refuses_before_storing() -> None:
    BalanceSnapshot.objects.create(points=2)
    with pytest.raises(InsufficientBalanceError) as caught:
        send_sms(["0912345678", "0912345679", "0912345670"], "Hi")
    assert caught.value.needed == 3
    assert caught.value.balance == 2
    assert "3 points" in str(caught.value)
    assert nothing_stored()


# --- overrides, drafts, mass sends -------------------------------------------------------------


def test_override_recipients_keep_the_intended_number(
    configure: Any, django_capture_on_commit_callbacks: Any
) -> None:
    configure(OVERRIDE_RECIPIENTS=["0900000001"])
    with django_capture_on_commit_callbacks(execute=False):
        message = send_sms(["0912345678", "0912345679"], "Hi")
    rows = list(message.recipients.values_list("phone", "intended_phone"))
    assert rows == [("0900000001", "0912345678"), ("0900000001", "0912345679")]


def test_draft_is_not_sent_until_queued(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        draft = create_draft("0912345678", "Hi")
    assert draft.status == Message.Status.DRAFT
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert queue_message(draft) is True
        assert queue_message(draft) is False  # a second click does nothing
    assert draft.status == Message.Status.QUEUED
    assert len(callbacks) == 1


def test_send_mass_sms_makes_one_message_per_distinct_text(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        messages = send_mass_sms(
            [
                ("0912345678", "Hello Amy"),
                (["0912345679", "0912345670"], "Hello team"),
                ("0912345671", "Hello team"),
            ]
        )
    assert [m.body for m in messages] == ["Hello Amy", "Hello team"]
    assert messages[1].recipient_count == 3
    assert len(callbacks) == 2


def test_send_mass_sms_validates_every_pair_first() -> None:
    with pytest.raises(InvalidNumberError):
        send_mass_sms([("0912345678", "Hello"), ("bad", "Hello you")])
    assert nothing_stored()


def test_recipients_are_inserted_in_chunks(django_capture_on_commit_callbacks: Any) -> None:
    numbers = [f"09{n:08d}" for n in range(20_000)]
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=False),
    ):
        message = send_sms(numbers, "Campaign", allow_duplicate=True)
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "django_smsgo_recipient"')]
    # Bulk inserts of up to 1,000 rows (SQLite splits them further by its
    # parameter limit), never one statement per number.
    expected = 20 if connection.vendor == "postgresql" else len(numbers) // 50
    assert 20 <= len(inserts) <= expected
    assert message.recipients.count() == 20_000


def test_importing_the_package_imports_no_models() -> None:
    code = (
        "import sys, django_smsgo; "
        "assert 'django_smsgo.models' not in sys.modules; "
        "assert callable(django_smsgo.__getattr__); print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd="."
    )
    assert out.stdout.strip() == "ok", out.stderr
    assert django_smsgo.send_sms is send_sms

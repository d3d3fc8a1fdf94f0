"""The message state machine: allowed transitions only, derived statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_smsgo.models import Message
from django_smsgo.services.states import TERMINAL, TRANSITIONS, derive_status, transition
from django_smsgo.testing.factories import MessageFactory

pytestmark = pytest.mark.django_db

S = Message.Status
NOW = timezone.now()


def test_every_status_has_a_row_and_terminals_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(S.values)
    assert {S.COMPLETED, S.FAILED, S.CANCELLED} == TERMINAL


def test_a_forbidden_transition_does_not_change_the_row() -> None:
    message = MessageFactory(status=S.COMPLETED)
    assert transition(message, S.QUEUED) is False
    assert message.status == S.COMPLETED
    message = MessageFactory(status=S.DRAFT)
    assert transition(message, S.SUBMITTED) is False
    assert transition(message, S.QUEUED) is True
    assert Message.objects.get(pk=message.pk).status == S.QUEUED


@pytest.mark.parametrize(
    ("counts", "send_at", "reached", "expected"),
    [
        ({"queued": 1, "submitted": 2}, None, False, None),
        ({"submitted": 2, "uncertain": 1}, None, False, S.UNCERTAIN),
        ({"submitted": 2}, NOW + timedelta(hours=1), False, S.SCHEDULED),
        ({"submitted": 2}, None, False, S.SUBMITTED),
        ({"delivered": 2, "failed": 1}, None, True, S.COMPLETED),
        ({"failed": 2}, None, True, S.COMPLETED),
        ({"failed": 2}, None, False, S.FAILED),
        ({"failed": 1, "cancelled": 1}, None, False, S.FAILED),
        ({"cancelled": 3}, None, False, S.CANCELLED),
    ],
)
def test_derived_status(
    counts: dict[str, int], send_at: object, reached: bool, expected: str | None
) -> None:
    assert derive_status(counts, send_at=send_at, now=NOW, reached=reached) == expected  # type: ignore[arg-type]

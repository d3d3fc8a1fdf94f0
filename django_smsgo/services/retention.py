"""Retention: delete, or strip of personal data, what is older than a number of days.

Taiwan's Personal Data Protection Act asks that personal data be kept no
longer than its purpose needs. Messages hold numbers and texts; delivery
reports, replies and one-time codes hold numbers too. :func:`cleanup` removes
them (or, with ``anonymise=True``, keeps the rows for statistics without the
numbers and texts) in bounded batches: each batch is one short transaction of
at most ``batch_size`` rows, so a first run over years of history never holds a
lock for long nor loads a table into memory.

Kept on purpose: the opt-out list (``Suppression``: a number that opted out
must stay out), balance snapshots (no personal data), and messages whose work
is not done (queued, sending, or scheduled for later).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient, Reply

#: What an anonymised number reads (the row's own id follows, keeping rows distinct).
ANONYMISED_PREFIX = "#"
DEFAULT_BATCH_SIZE = 500


@dataclass
class CleanupResult:
    """Rows removed (or anonymised) per model label, and the cut-off used."""

    cutoff: datetime
    anonymise: bool
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every row touched."""
        return sum(self.counts.values())


def old_messages(cutoff: datetime, now: datetime) -> models.QuerySet[Message]:
    """Messages created before ``cutoff`` whose work is done."""
    return (
        Message.objects.filter(created_at__lt=cutoff)
        .exclude(status__in=[Message.Status.QUEUED, Message.Status.SENDING])
        .exclude(status=Message.Status.SCHEDULED, send_at__gt=now)
    )


def cleanup(
    days: int,
    *,
    anonymise: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> CleanupResult:
    """Delete (or anonymise) messages, recipients, reports, replies and codes older than ``days``.

    ``dry_run`` counts what would be touched and changes nothing.
    ``progress(label, rows)`` is called after each batch. Raises ``ValueError``
    for ``days`` below 1 or ``batch_size`` below 1.
    """
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"days {days!r} must be a whole number of at least 1")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size {batch_size!r} must be a whole number of at least 1")
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    result = CleanupResult(cutoff=cutoff, anonymise=anonymise, dry_run=dry_run)
    steps = _anonymise_steps(cutoff, now) if anonymise else _delete_steps(cutoff, now)
    for label, queryset, change in steps:
        if dry_run:
            result.counts[label] = queryset.count()
            continue
        result.counts[label] = _in_batches(queryset, change, batch_size, label, progress)
    return result


Step = tuple[str, "models.QuerySet[Any]", Callable[["models.QuerySet[Any]"], object]]


def delete(queryset: models.QuerySet[Any]) -> None:
    """A step's change that deletes the rows."""
    queryset.delete()


def _delete_steps(cutoff: datetime, now: datetime) -> list[Step]:
    messages = old_messages(cutoff, now).values("pk")
    steps: list[Step] = [
        # Leaves first, so deleting a parent never cascades over an unbounded set.
        ("reports", DeliveryReport.objects.filter(recipient__message__in=messages), delete),
        ("replies", Reply.objects.filter(message__in=messages), delete),
        ("recipients", Recipient.objects.filter(message__in=messages), delete),
        ("batches", Batch.objects.filter(message__in=messages), delete),
        ("messages", old_messages(cutoff, now), delete),
        # Rows that never found their message.
        (
            "unmatched reports",
            DeliveryReport.objects.filter(recipient__isnull=True, received_at__lt=cutoff),
            delete,
        ),
        (
            "unmatched replies",
            Reply.objects.filter(message__isnull=True, received_at__lt=cutoff),
            delete,
        ),
    ]
    return steps + _registered_steps(cutoff, now, anonymise=False)


def _anonymise_steps(cutoff: datetime, now: datetime) -> list[Step]:
    messages = old_messages(cutoff, now).values("pk")
    old_reports = DeliveryReport.objects.filter(
        Q(recipient__message__in=messages) | Q(recipient__isnull=True, received_at__lt=cutoff)
    )
    old_replies = Reply.objects.filter(
        Q(message__in=messages) | Q(message__isnull=True, received_at__lt=cutoff)
    )
    steps: list[Step] = [
        (
            "reports",
            old_reports.exclude(phone="", raw={}),
            lambda qs: qs.update(phone="", raw={}),
        ),
        (
            "replies",
            old_replies.exclude(from_phone="", to_phone="", body="", raw={}),
            lambda qs: qs.update(from_phone="", to_phone="", body="", raw={}),
        ),
        (
            "recipients",
            Recipient.objects.filter(message__in=messages).exclude(
                phone__startswith=ANONYMISED_PREFIX
            ),
            lambda qs: qs.update(
                phone=Concat(Value(ANONYMISED_PREFIX), Cast("pk", CharField())),
                intended_phone="",
            ),
        ),
        (
            "messages",
            old_messages(cutoff, now).exclude(body="", body_hash=""),
            lambda qs: qs.update(body="", body_hash="", idempotency_key=None),
        ),
    ]
    return steps + _registered_steps(cutoff, now, anonymise=True)


#: More tables to clean, from apps built on this one (the one-time codes register
#: theirs when they are installed), so this module never imports them.
#: Each provider takes ``(cutoff, now, anonymise)`` and returns its steps.
StepProvider = Callable[[datetime, datetime, bool], list[Step]]
_providers: list[StepProvider] = []


def register_steps(provider: StepProvider) -> None:
    """Let :func:`cleanup` clean an app's own tables too (once per provider)."""
    if provider not in _providers:
        _providers.append(provider)


def _registered_steps(cutoff: datetime, now: datetime, *, anonymise: bool) -> list[Step]:
    return [step for provider in _providers for step in provider(cutoff, now, anonymise)]


def _in_batches(
    queryset: models.QuerySet[Any],
    change: Callable[[models.QuerySet[Any]], object],
    batch_size: int,
    label: str,
    progress: Callable[[str, int], None] | None,
) -> int:
    done = 0
    model = queryset.model
    while True:
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return done
        with transaction.atomic():
            change(model._base_manager.filter(pk__in=pks))
        done += len(pks)
        if progress is not None:
            progress(label, len(pks))

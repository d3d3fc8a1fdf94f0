"""factory-boy factories that build rows the way sending, dispatch and reports leave them.

Consistency is the point: a recipient's status decides what else exists.

=============  ==============================================================
``queued``     no batch
``submitted``  a submitted batch with a msgid, ``submitted_at``
``delivered``  the batch, ``DELIVRD`` as gateway status, ``final_at``, and an
               applied ``DeliveryReport``
``failed``     the same with ``UNDELIV`` (or ``gateway_status=...``) and its reason
``uncertain``  an uncertain batch without msgid (the answer was lost)
``cancelled``  no batch, the reason ``cancelled``
=============  ==============================================================

``MessageFactory(recipients=3, status="completed")`` gives a completed message
with three delivered recipients sharing one batch (50 per batch, as dispatch
sends them); ``recipients=["0912345678", ...]`` names the numbers and
``recipients__status`` overrides the status derived from the message's.
Generated numbers end in 0, which the simulator's outcome rule delivers.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from django_smsgo.client.numbers import MAX_NUMBERS_PER_REQUEST
from django_smsgo.models import (
    BalanceSnapshot,
    Batch,
    DeliveryReport,
    Message,
    Recipient,
    Reply,
    Suppression,
)
from django_smsgo.reasons import Reason

__all__ = [
    "BalanceSnapshotFactory",
    "BatchFactory",
    "DeliveryReportFactory",
    "MessageFactory",
    "RecipientFactory",
    "ReplyFactory",
    "SuppressionFactory",
    "recipient_status_for",
]

R = Recipient.Status
M = Message.Status

#: The recipients' status a message's status implies.
RECIPIENT_STATUS_FOR_MESSAGE: dict[str, str] = {
    M.DRAFT: R.QUEUED,
    M.QUEUED: R.QUEUED,
    M.SENDING: R.QUEUED,
    M.SCHEDULED: R.SUBMITTED,
    M.SUBMITTED: R.SUBMITTED,
    M.COMPLETED: R.DELIVERED,
    M.FAILED: R.FAILED,
    M.CANCELLED: R.CANCELLED,
    M.UNCERTAIN: R.UNCERTAIN,
}

_WITH_BATCH = frozenset({R.SUBMITTED, R.DELIVERED, R.FAILED, R.UNCERTAIN})
_FINAL = frozenset({R.DELIVERED, R.FAILED})


def recipient_status_for(message_status: str) -> str:
    """The status recipients of a message in ``message_status`` have."""
    return RECIPIENT_STATUS_FOR_MESSAGE.get(message_status, R.QUEUED)


def _number(n: int) -> str:
    # 09 + 8 digits ending in 0: unique for 10 million rows, always delivered.
    return f"09{n % 10**7:07d}0"


def _text_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class MessageFactory(DjangoModelFactory):
    """A message; ``recipients=N`` or a list of numbers adds consistent recipients."""

    class Meta:
        model = Message
        skip_postgeneration_save = True

    body = "Your code is 123456"
    body_hash = factory.LazyAttribute(lambda o: _text_hash(o.body))
    encoding = "ASCII"
    status = M.QUEUED
    priority = Message.Priority.NORMAL
    kind = Message.Kind.TRANSACTIONAL
    segments = 1
    queued_at = factory.LazyAttribute(lambda o: None if o.status == M.DRAFT else timezone.now())
    submitted_at = factory.LazyAttribute(
        lambda o: (
            timezone.now()
            if o.status in (M.SUBMITTED, M.SCHEDULED, M.COMPLETED, M.UNCERTAIN)
            else None
        )
    )
    completed_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status in (M.COMPLETED, M.FAILED, M.CANCELLED) else None
    )
    reason_code = factory.LazyAttribute(
        lambda o: str(Reason.CANCELLED) if o.status == M.CANCELLED else ""
    )

    @factory.post_generation
    def recipients(obj: Message, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not extracted:
            return
        phones = _phones(extracted)
        status = kwargs.pop("status", recipient_status_for(obj.status))
        strategy = RecipientFactory.create if create else RecipientFactory.build
        batch = None
        for index, phone in enumerate(phones):
            if status in _WITH_BATCH and index % MAX_NUMBERS_PER_REQUEST == 0:
                state = Batch.State.UNCERTAIN if status == R.UNCERTAIN else Batch.State.SUBMITTED
                batch_strategy = BatchFactory.create if create else BatchFactory.build
                batch = batch_strategy(message=obj, state=state)
            strategy(message=obj, phone=phone, status=status, batch=batch, **kwargs)
        obj.recipient_count = len(phones)
        obj.estimated_points = len(phones) * obj.segments
        if status in _FINAL:
            obj.points_charged = obj.estimated_points
        if create:
            obj.save(update_fields=["recipient_count", "estimated_points", "points_charged"])


def _phones(extracted: int | Iterable[str]) -> list[str]:
    if isinstance(extracted, int):
        return [_number(next(_number_sequence)) for _ in range(extracted)]
    return list(extracted)


_number_sequence = itertools.count(1)


class BatchFactory(DjangoModelFactory):
    """A gateway request of a message: submitted with a msgid (uncertain: none yet)."""

    class Meta:
        model = Batch

    message = factory.SubFactory(MessageFactory, status=M.SUBMITTED)
    state = Batch.State.SUBMITTED
    msgid = factory.Maybe(
        factory.LazyAttribute(lambda o: o.state == Batch.State.SUBMITTED),
        yes_declaration=factory.Sequence(lambda n: f"9{n:014d}"),
        no_declaration="",
    )
    api_url = "https://www.smsgo.com.tw/sms_gw/"
    statuscode = factory.Maybe(
        factory.LazyAttribute(lambda o: o.state == Batch.State.SUBMITTED),
        yes_declaration=0,
        no_declaration=None,
    )
    statusstr = factory.LazyAttribute(lambda o: "OK" if o.state == Batch.State.SUBMITTED else "")
    points = factory.LazyAttribute(lambda o: 1 if o.state == Batch.State.SUBMITTED else None)
    submitted_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.state == Batch.State.SUBMITTED else None
    )


class RecipientFactory(DjangoModelFactory):
    """A recipient; its status decides its batch, gateway fields and delivery report."""

    class Meta:
        model = Recipient
        skip_postgeneration_save = True

    class Params:
        has_batch = factory.LazyAttribute(lambda o: o.status in _WITH_BATCH)
        final = factory.LazyAttribute(lambda o: o.status in _FINAL)

    message = factory.SubFactory(
        MessageFactory,
        status=factory.LazyAttribute(lambda o: _message_status_for(o.factory_parent.status)),
    )
    phone = factory.LazyFunction(lambda: _number(next(_number_sequence)))
    status = R.QUEUED
    batch = factory.Maybe(
        "has_batch",
        yes_declaration=factory.SubFactory(
            BatchFactory,
            message=factory.SelfAttribute("..message"),
            state=factory.LazyAttribute(
                lambda o: (
                    Batch.State.UNCERTAIN
                    if o.factory_parent.status == R.UNCERTAIN
                    else Batch.State.SUBMITTED
                )
            ),
        ),
        no_declaration=None,
    )
    gateway_status = factory.LazyAttribute(
        lambda o: {R.DELIVERED: "DELIVRD", R.FAILED: "UNDELIV"}.get(o.status, "")
    )
    gateway_statuscode = factory.LazyAttribute(lambda o: 0 if o.final else None)
    submitted_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status in (R.SUBMITTED, R.DELIVERED, R.FAILED) else None
    )
    final_at = factory.LazyAttribute(lambda o: timezone.now() if o.final else None)
    reason_code = factory.LazyAttribute(lambda o: _recipient_reason(o.status, o.gateway_status)[0])
    reason_params = factory.LazyAttribute(
        lambda o: _recipient_reason(o.status, o.gateway_status)[1]
    )

    @factory.post_generation
    def report(obj: Recipient, create: bool, extracted: Any, **kwargs: Any) -> None:
        """The delivery report that made a final recipient final (``report=False``: none)."""
        if extracted is False or not create or obj.status not in _FINAL or obj.batch is None:
            return
        DeliveryReportFactory.create(
            recipient=obj,
            batch=obj.batch,
            msgid=obj.batch.msgid,
            phone=obj.phone,
            statuscode=obj.gateway_statuscode,
            statusstr=obj.gateway_status,
            **kwargs,
        )


def _message_status_for(recipient_status: str) -> str:
    statuses: dict[str, str] = {
        R.QUEUED: M.QUEUED,
        R.SUBMITTED: M.SUBMITTED,
        R.DELIVERED: M.COMPLETED,
        R.FAILED: M.COMPLETED,
        R.CANCELLED: M.CANCELLED,
        R.UNCERTAIN: M.UNCERTAIN,
    }
    return statuses.get(recipient_status, M.QUEUED)


def _recipient_reason(status: str, state: str) -> tuple[str, dict[str, Any]]:
    if status == R.FAILED:
        return str(Reason.FINAL_STATE), {"state": state}
    if status == R.CANCELLED:
        return str(Reason.CANCELLED), {}
    return "", {}


class DeliveryReportFactory(DjangoModelFactory):
    """A report as a poll recorded it; its recipient carries the state it reports."""

    class Meta:
        model = DeliveryReport

    statusstr = "DELIVRD"
    statuscode = 0
    recipient = factory.SubFactory(
        RecipientFactory,
        status=factory.LazyAttribute(
            lambda o: (
                R.DELIVERED
                if o.factory_parent.statusstr == "DELIVRD"
                else (R.FAILED if o.factory_parent.statusstr else R.SUBMITTED)
            )
        ),
        gateway_status=factory.SelfAttribute("..statusstr"),
        report=False,
    )
    batch = factory.LazyAttribute(lambda o: o.recipient.batch if o.recipient else None)
    msgid = factory.LazyAttribute(lambda o: o.batch.msgid if o.batch else "")
    phone = factory.LazyAttribute(lambda o: o.recipient.phone if o.recipient else "")
    source = DeliveryReport.Source.POLL
    outcome = DeliveryReport.Outcome.APPLIED
    raw = factory.LazyAttribute(
        lambda o: {"msgid": o.msgid, "phone": o.phone, "statusstr": o.statusstr}
    )


class ReplyFactory(DjangoModelFactory):
    """A receiver's answer to a delivered message that collected replies."""

    class Meta:
        model = Reply

    recipient = factory.SubFactory(
        RecipientFactory,
        status=R.DELIVERED,
        message=factory.SubFactory(MessageFactory, status=M.COMPLETED, reply=True, reply_days=3),
    )
    message = factory.SelfAttribute("recipient.message")
    msgid = factory.LazyAttribute(lambda o: o.recipient.batch.msgid if o.recipient.batch else "")
    from_phone = factory.SelfAttribute("recipient.phone")
    body = "OK"
    encoding = "ASCII"
    sent_at = factory.LazyFunction(timezone.now)
    raw = factory.LazyAttribute(lambda o: {"smsid": o.msgid, "srcaddr": o.from_phone})


class SuppressionFactory(DjangoModelFactory):
    """A number on the opt-out list."""

    class Meta:
        model = Suppression
        django_get_or_create = ("phone",)

    phone = factory.LazyFunction(lambda: _number(next(_number_sequence)))
    reason = Suppression.Reason.MANUAL


class BalanceSnapshotFactory(DjangoModelFactory):
    """A balance the gateway reported."""

    class Meta:
        model = BalanceSnapshot

    points = 10_000

"""Rows for the read tests, stored through the ORM as dispatch and callbacks would leave them."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import User

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient


def stored_message(
    *phones: str,
    body: str = "Your code is 1234",
    status: str = Message.Status.SUBMITTED,
    created_by: User | None = None,
    **fields: Any,
) -> Message:
    """A message already submitted in one batch, with one delivery report per recipient."""
    message = Message.objects.create(
        body=body,
        body_hash=hashlib.sha256(body.encode()).hexdigest(),
        encoding="ASCII",
        status=status,
        created_by=created_by,
        recipient_count=len(phones),
        estimated_points=len(phones),
        **fields,
    )
    batch = Batch.objects.create(
        message=message, state=Batch.State.SUBMITTED, msgid=f"1001011{message.pk:08d}"
    )
    for phone in phones:
        recipient = Recipient.objects.create(
            message=message, phone=phone, batch=batch, status=Recipient.Status.DELIVERED
        )
        DeliveryReport.objects.create(
            recipient=recipient,
            batch=batch,
            msgid=batch.msgid,
            phone=phone,
            statuscode=0,
            statusstr="DELIVRD",
            source=DeliveryReport.Source.POLL,
            outcome=DeliveryReport.Outcome.APPLIED,
        )
    return message

"""Rows for the read tests, built by the testing kit's factories as dispatch leaves them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from django_smsgo.models import Message, Recipient
from django_smsgo.testing.factories import MessageFactory


def stored_message(
    *phones: str,
    body: str = "Your code is 1234",
    status: str = Message.Status.SUBMITTED,
    created_by: User | None = None,
    **fields: Any,
) -> Message:
    """A message already submitted in one batch, with one delivery report per recipient."""
    message: Message = MessageFactory(
        body=body,
        status=status,
        created_by=created_by,
        recipients=list(phones),
        recipients__status=Recipient.Status.DELIVERED,
        **fields,
    )
    return message

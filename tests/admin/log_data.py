"""Send-log data for the tests: many recipients across messages, written in bulk."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from django_smsgo.models import Message, Recipient
from django_smsgo.reasons import Reason

R = Recipient.Status
#: The statuses the rows cycle through, with the gateway's code for the final ones.
CYCLE = [
    (R.DELIVERED, "DELIVRD", "", {}),
    (R.DELIVERED, "DELIVRD", "", {}),
    (R.FAILED, "UNDELIV", Reason.FINAL_STATE, {"state": "UNDELIV"}),
    (R.SUBMITTED, "", "", {}),
    (R.CANCELLED, "", Reason.CANCELLED, {}),
]


def seed(
    total: int,
    *,
    per_message: int = 1_000,
    senders: list[Any] | None = None,
    start: datetime | None = None,
    body: str = "週年慶最後一天！全館八折 Order #{n} shipped",
) -> list[Message]:
    """``total`` recipients in messages of ``per_message``, a day apart, oldest first.

    Numbers are ``09`` + 8 digits counting up from 10,000,000; statuses cycle
    through :data:`CYCLE`; messages alternate between ``senders``.
    """
    start = start or timezone.now() - timedelta(days=total // per_message + 1)
    messages = []
    made = 0
    index = 0
    while made < total:
        count = min(per_message, total - made)
        sent_at = start + timedelta(days=index)
        message = Message.objects.create(
            body=body.format(n=index),
            body_hash=f"log-seed-{index}-{made}",
            encoding="BIG5",
            status=Message.Status.COMPLETED,
            recipient_count=count,
            estimated_points=count,
            points_charged=count,
            created_by=senders[index % len(senders)] if senders else None,
            submitted_at=sent_at,
        )
        Message.objects.filter(pk=message.pk).update(created_at=sent_at)
        rows = []
        for n in range(made, made + count):
            status, code, reason, params = CYCLE[n % len(CYCLE)]
            final = status in (R.DELIVERED, R.FAILED, R.CANCELLED)
            rows.append(
                Recipient(
                    message=message,
                    phone=f"09{10_000_000 + n:08d}",
                    status=status,
                    gateway_status=code,
                    gateway_statuscode=0 if code else None,
                    reason_code=reason,
                    reason_params=params,
                    submitted_at=sent_at,
                    final_at=sent_at + timedelta(seconds=8) if final else None,
                )
            )
        Recipient.objects.bulk_create(rows, batch_size=2_000)
        Recipient.objects.filter(message=message).update(created_at=sent_at)
        messages.append(message)
        made += count
        index += 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE django_smsgo_recipient")
    return messages

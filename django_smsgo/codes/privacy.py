"""What the core's privacy features need of the codes' tables.

``smsgo_cleanup`` cleans the codes' rows, and the send log and its exports
withhold the texts of codes (they carry the code). :class:`~.apps.CodesConfig`
registers both with the core, which never imports this app.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef

from django_smsgo.codes.models import CodeCooldown, OneTimeCode, SendCounter
from django_smsgo.services.retention import Step, delete

# Send counters are kept at least this long: a monthly budget needs its month.
COUNTER_KEEP = timedelta(days=32)


def cleanup_steps(cutoff: datetime, now: datetime, anonymise: bool) -> list[Step]:
    """Codes older than ``cutoff`` (their numbers blanked when anonymising), cooldowns, counters."""
    codes = OneTimeCode.objects.filter(created_at__lt=cutoff)
    counters = SendCounter.objects.filter(window_start__lt=min(cutoff, now - COUNTER_KEEP))
    return [
        (
            "codes",
            codes.exclude(phone="") if anonymise else codes,
            (lambda qs: qs.update(phone="")) if anonymise else delete,
        ),
        ("code cooldowns", CodeCooldown.objects.filter(last_sent_at__lt=cutoff), delete),
        ("send counters", counters, delete),
    ]


def is_code_text() -> Any:
    """An expression over a recipient row: is its text a one-time code's?"""
    return Exists(OneTimeCode.objects.filter(message_id=OuterRef("message_id")))

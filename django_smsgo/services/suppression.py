"""The suppression list: numbers that must not receive marketing SMS.

A number is suppressed when its owner replied with an opt-out keyword, or when
staff added it. Transactional messages (one-time codes, receipts) are still
sent to it; ``send_sms`` asks :func:`suppressed_among` which numbers to skip.

The gateway and our callers may spell one Taiwanese mobile number three ways
(``0912345678``, ``+886912345678``, ``886912345678``); every lookup here
treats them as the same number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import IntegrityError

from django_smsgo.models import PHONE_MAX_LENGTH, Reply, Suppression
from django_smsgo.services import locks

# A chunk of numbers per IN query: each number expands to at most three
# spellings, and 300 * 3 stays under SQLite's historical 999-parameter limit.
_CHUNK = 300

_SEPARATORS = re.compile(r"[\s\-().]")
_TW_NATIONAL = re.compile(r"^0(9\d{8})$")
_TW_INTERNATIONAL = re.compile(r"^\+?886(9\d{8})$")


def clean_phone(phone: str) -> str:
    """Return ``phone`` without spaces, dashes, dots or brackets."""
    return _SEPARATORS.sub("", phone)


def phone_variants(phone: str) -> set[str]:
    """Every spelling under which ``phone`` may be stored or reported.

    A Taiwanese mobile number gives its national, ``+886`` and ``886`` forms;
    any other number gives itself (without separators).
    """
    cleaned = clean_phone(phone)
    match = _TW_NATIONAL.match(cleaned) or _TW_INTERNATIONAL.match(cleaned)
    if match is None:
        return {cleaned}
    subscriber = match.group(1)
    return {"0" + subscriber, "+886" + subscriber, "886" + subscriber}


def is_suppressed(phone: str) -> bool:
    """Tell whether ``phone`` (in any spelling) is on the suppression list."""
    return Suppression.objects.filter(phone__in=phone_variants(phone)).exists()


def suppressed_among(phones: Iterable[str]) -> set[str]:
    """Return those of ``phones`` that are suppressed, spelled as they were given.

    Made for large sends: the numbers are looked up in chunks, so a hundred
    thousand numbers cost a few hundred small indexed queries, not one query
    with a hundred thousand parameters.
    """
    given = list(dict.fromkeys(phones))
    found: set[str] = set()
    for start in range(0, len(given), _CHUNK):
        chunk = given[start : start + _CHUNK]
        spelled_as: dict[str, list[str]] = {}
        for phone in chunk:
            for variant in phone_variants(phone):
                spelled_as.setdefault(variant, []).append(phone)
        stored = Suppression.objects.filter(phone__in=list(spelled_as)).values_list(
            "phone", flat=True
        )
        for variant in stored:
            found.update(spelled_as[variant])
    return found


def suppress(
    phone: str,
    reason: str = Suppression.Reason.MANUAL,
    *,
    note: str = "",
    reply: Reply | None = None,
) -> Suppression:
    """Put ``phone`` on the suppression list and return its entry.

    Idempotent: a number already suppressed (in any spelling) keeps its first
    entry, which is returned unchanged. Raises ``ValueError`` for an empty or
    over-long number or an unknown reason.
    """
    cleaned = clean_phone(phone)
    if not cleaned or len(cleaned) > PHONE_MAX_LENGTH:
        raise ValueError(
            f"Cannot suppress phone {phone!r}: it must have 1 to {PHONE_MAX_LENGTH} characters."
        )
    if reason not in Suppression.Reason.values:
        raise ValueError(
            f"Unknown suppression reason {reason!r}: use one of {Suppression.Reason.values}."
        )
    existing = Suppression.objects.filter(phone__in=phone_variants(cleaned)).first()
    if existing is not None:
        return existing
    try:
        with locks.writing():
            return Suppression.objects.create(phone=cleaned, reason=reason, note=note, reply=reply)
    except IntegrityError:
        # Another request suppressed the same number between our read and write.
        return Suppression.objects.get(phone=cleaned)


def unsuppress(phone: str) -> int:
    """Remove ``phone`` (every spelling) from the suppression list; return rows removed."""
    deleted, _ = Suppression.objects.filter(phone__in=phone_variants(phone)).delete()
    return deleted

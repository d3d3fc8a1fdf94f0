"""The suppression list: numbers that must not receive marketing SMS.

A number is suppressed when its owner replied with an opt-out keyword, or when
staff added it. Transactional messages (one-time codes, receipts) are still
sent to it; ``send_sms`` asks :func:`suppressed_among` which numbers to skip.

Every opt-out and every opt-in is also written to the append-only
``ConsentRecord`` log, with its time, source and the reply's words, as
evidence that a refusal was honoured. An opt-out stops at once: the number's
recipients of marketing messages that no worker has claimed yet are cancelled.

The gateway and our callers may spell one Taiwanese mobile number three ways
(``0912345678``, ``+886912345678``, ``886912345678``); every lookup here
treats them as the same number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from django_smsgo.models import (
    PHONE_MAX_LENGTH,
    ConsentRecord,
    Message,
    Recipient,
    Reply,
    Suppression,
)
from django_smsgo.reasons import Reason
from django_smsgo.services import locks
from django_smsgo.services.states import recipient as recipient_states

# A chunk of numbers per IN query: each number expands to at most three
# spellings, and 300 * 3 stays under SQLite's historical 999-parameter limit.
# A send of more numbers reads whole a suppression list of at most three entries a number.
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

    Made for large sends. A list with no more entries than three per number
    (every spelling of the send) is read whole, in one query; a longer one is
    looked up in chunks of numbers, so a hundred thousand numbers cost a few
    hundred small indexed queries, not one query with a hundred thousand
    parameters. A send of a few numbers is always looked up: one small query.
    """
    given = list(dict.fromkeys(phones))
    if len(given) > _CHUNK and _list_is_no_longer_than(3 * len(given)):
        listed = set(Suppression.objects.values_list("phone", flat=True))
        return {phone for phone in given if not listed.isdisjoint(phone_variants(phone))}
    found: set[str] = set()
    for start in range(0, len(given), _CHUNK):
        spelled_as: dict[str, list[str]] = {}
        for phone in given[start : start + _CHUNK]:
            for variant in phone_variants(phone):
                spelled_as.setdefault(variant, []).append(phone)
        stored = Suppression.objects.filter(phone__in=list(spelled_as)).values_list(
            "phone", flat=True
        )
        for variant in stored:
            found.update(spelled_as[variant])
    return found


def _list_is_no_longer_than(rows: int) -> bool:
    """Whether the suppression list has at most ``rows`` entries (counted no further)."""
    return Suppression.objects.order_by()[: rows + 1].count() <= rows


def suppress(
    phone: str,
    reason: str = Suppression.Reason.MANUAL,
    *,
    note: str = "",
    reply: Reply | None = None,
    source: str | None = None,
    by: Any = None,
) -> Suppression:
    """Put ``phone`` on the suppression list, log the refusal, and return the entry.

    Idempotent for the list: a number already suppressed (in any spelling)
    keeps its first entry, which is returned unchanged; the refusal is logged
    each time (``ConsentRecord``, ``source`` defaulting to ``reply`` when a
    reply is given, else ``staff``; ``by`` the staff user). The number's
    unclaimed recipients of marketing messages are cancelled. Raises
    ``ValueError`` for an empty or over-long number, an unknown reason or source.
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
    source = _source(source, reply)
    with locks.writing():
        log_consent(cleaned, ConsentRecord.Action.OPT_OUT, source, reply=reply, note=note, by=by)
        cancel_pending_marketing(cleaned)
        existing = Suppression.objects.filter(phone__in=phone_variants(cleaned)).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return Suppression.objects.create(
                    phone=cleaned, reason=reason, note=note, reply=reply
                )
        except IntegrityError:
            # Another request suppressed the same number between our read and write.
            return Suppression.objects.get(phone=cleaned)


def unsuppress(
    phone: str,
    *,
    source: str = ConsentRecord.Source.STAFF,
    reply: Reply | None = None,
    note: str = "",
    by: Any = None,
) -> int:
    """Remove ``phone`` (every spelling) from the suppression list; return rows removed.

    When a row was removed, the opt-in is logged (``ConsentRecord``) with its
    ``source``, the reply that asked for it and the staff user ``by``.
    """
    with locks.writing():
        deleted, _ = Suppression.objects.filter(phone__in=phone_variants(phone)).delete()
        if deleted:
            log_consent(
                clean_phone(phone),
                ConsentRecord.Action.OPT_IN,
                source,
                reply=reply,
                note=note,
                by=by,
            )
    return deleted


def _source(source: str | None, reply: Reply | None) -> str:
    if source is None:
        return ConsentRecord.Source.REPLY if reply is not None else ConsentRecord.Source.STAFF
    if source not in ConsentRecord.Source.values:
        raise ValueError(
            f"Unknown consent source {source!r}: use one of {ConsentRecord.Source.values}."
        )
    return source


def log_consent(
    phone: str,
    action: str,
    source: str,
    *,
    reply: Reply | None = None,
    note: str = "",
    by: Any = None,
) -> ConsentRecord:
    """Append one opt-out or opt-in to the ``ConsentRecord`` log and return it."""
    return ConsentRecord.objects.create(
        phone=phone,
        action=action,
        source=source,
        reply=reply,
        reply_text=reply.body if reply is not None else "",
        note=note,
        created_by=by if getattr(by, "pk", None) is not None else None,
    )


def cancel_pending_marketing(phone: str) -> int:
    """Cancel ``phone``'s recipients of marketing messages that no worker has claimed yet.

    A refusal stops marketing at once, including messages already queued or
    held for the quiet hours. Recipients already in a batch were handed to the
    gateway (or are being): they are left alone. Returns the recipients cancelled.
    """
    variants = phone_variants(phone)
    pending = (
        Recipient.objects.filter(message__kind=Message.Kind.MARKETING)
        .filter(Q(phone__in=variants) | Q(intended_phone__in=variants))
        .unclaimed()
    )
    return recipient_states.move(
        pending,
        Recipient.Status.CANCELLED,
        sources=[Recipient.Status.QUEUED],
        reason=Reason.SUPPRESSED,
        final_at=timezone.now(),
    )

"""Personalised sends: one text with placeholders (``{name}``, ``{code}``), a value per recipient.

The text is filled in for every recipient; recipients whose final texts are
the same share one message, so they still share gateway requests (at most
50 numbers each). Each distinct final text becomes one ordinary message,
validated by :func:`~django_smsgo.services.sending.plan_send` exactly like
any text (length, encoding, control characters, Taiwan's carrier rules) and
stored by :func:`~django_smsgo.services.sending.store`; dispatch, claiming and
the state writers see nothing new.

All or nothing: every recipient is filled in and every final text planned
before anything is stored; then all messages are stored in one transaction.
A placeholder without a value for some recipient, or one no value is given
for at all, raises a :class:`PlaceholderError` naming it; nothing is stored.

What a placeholder is, and how the texts are filled in and grouped, is
:mod:`~django_smsgo.services.placeholders`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.models import Q

from django_smsgo.exceptions import InvalidNumberError, OptionNotAllowedError, SmsgoError
from django_smsgo.models import Message
from django_smsgo.services import hooks, locks, sending, validation
from django_smsgo.services.estimates import Estimate, estimate
from django_smsgo.services.placeholders import (
    Grouped,
    MissingPlaceholderValueError,
    PlaceholderError,
    PlaceholderSyntaxError,
    Recipients,
    TextGroup,
    UnknownPlaceholderError,
    group_texts,
    placeholders_of,
    rows_of,
)

__all__ = [
    "Grouped",
    "MissingPlaceholderValueError",
    "PersonalisedEstimate",
    "PlaceholderError",
    "PlaceholderSyntaxError",
    "TextGroup",
    "UnknownPlaceholderError",
    "earlier_messages",
    "estimate_personalised",
    "group_texts",
    "placeholders_of",
    "send_personalised",
]

#: The longest key a caller may give: the derived keys of the other texts add a suffix.
KEY_SUFFIX_ROOM = 12


# --------------------------------------------------------------------------- sending


def send_personalised(
    text: str,
    recipients: Recipients,
    *,
    columns: Sequence[str] | None = None,
    queue: bool = True,
    **options: Any,
) -> list[Message]:
    """Send ``text`` filled in for each recipient; one message per distinct final text.

    ``recipients`` and ``columns`` are those of :func:`group_texts`;
    ``options`` those of :func:`~django_smsgo.services.sending.send_sms`. With
    ``queue=False`` the messages are stored as drafts (the admin's compose).
    Every final text is validated before anything is stored, the estimated
    points of all of them are held against the balance together, and all
    messages are stored in one transaction: a refusal of any text stores none.
    Calling again with the same ``idempotency_key`` returns the first call's
    messages and sends nothing.
    """
    key_given = validation.idempotency_key(options.pop("idempotency_key", None))
    _check_key_room(key_given)
    earlier = earlier_messages(key_given)
    if earlier:
        return earlier
    grouped = group_texts(text, recipients, columns=columns)
    if not grouped.groups:
        raise InvalidNumberError([(None, "at least one receiver number is needed")])
    outgoing = [hooks.before_send(list(g.numbers), g.body, options) for g in grouped.groups]
    try:
        plans = [
            sending.plan_send(
                hooks.receivers_of(sms, list(group.numbers)),
                sms.body,
                idempotency_key=text_key(key_given, index),
                **hooks.send_options(sms),
            )
            for index, (sms, group) in enumerate(zip(outgoing, grouped.groups, strict=True))
        ]
        # Each plan was held against the balance alone; together they must fit too.
        sending.check_balance(sum(plan.estimated_points for plan in plans))
        if queue:
            sending.check_ready()
        with locks.writing():
            stored = [sending.store(plan, queue=queue) for plan in plans]
    except SmsgoError as error:
        for sms in outgoing:
            hooks.after_send(sms, None, hooks.REFUSED, error)
        raise
    for sms, one in zip(outgoing, stored, strict=True):
        if one.created:
            hooks.after_send(sms, one.message, hooks.QUEUED if queue else hooks.DRAFT)
    return [one.message for one in stored]


def text_key(given: str | None, index: int) -> str | None:
    """The idempotency key of the ``index``-th text: the caller's key, then ``key:p2``…"""
    if given is None:
        return None
    return given if index == 0 else f"{given}:p{index + 1}"


def earlier_messages(given: str | None) -> list[Message]:
    """The messages an earlier personalised send with the key ``given`` stored (oldest first)."""
    if given is None or Message.objects.by_idempotency_key(given) is None:
        return []
    found = Message.objects.filter(
        Q(idempotency_key=given) | Q(idempotency_key__startswith=f"{given}:p")
    )
    return sorted(found, key=lambda m: m.pk)


def _check_key_room(given: str | None) -> None:
    if given is not None and len(given) > validation.IDEMPOTENCY_KEY_MAX_LENGTH - KEY_SUFFIX_ROOM:
        raise OptionNotAllowedError(
            given,
            f"a personalised send's idempotency key has at most "
            f"{validation.IDEMPOTENCY_KEY_MAX_LENGTH - KEY_SUFFIX_ROOM} characters "
            "(each text's key adds a suffix)",
        )


# --------------------------------------------------------------------------- estimate


@dataclass(frozen=True)
class PersonalisedEstimate(Estimate):
    """An :class:`Estimate` of a personalised send, shown as its longest final text.

    ``characters``, ``segments``, ``encoding`` and ``body`` are those of the
    longest text (most SMS per recipient, then most characters): the worst
    case. ``points`` and ``valid_numbers`` are the whole send's, every text
    at its own size. ``texts`` counts the distinct final texts;
    ``placeholders`` names the text's placeholders; ``duplicates`` counts
    numbers given twice (their first row is used), as for any estimate.
    """

    texts: int = 0
    placeholders: tuple[str, ...] = ()
    personalised: bool = True


def estimate_personalised(
    text: str,
    recipients: Recipients,
    *,
    columns: Sequence[str] | None = None,
    encoding: str | None = None,
    reply: bool = False,
    wap_url: str | None = None,
    kind: str | None = None,
    send_at: datetime | None = None,
) -> PersonalisedEstimate:
    """Estimate :func:`send_personalised`; store nothing, never raise for bad input.

    A placeholder problem is the estimate's ``text_error`` (and the text is
    counted as written); invalid numbers are listed, not raised.
    """
    options: dict[str, Any] = {
        "encoding": encoding,
        "reply": reply,
        "wap_url": wap_url,
        "kind": kind,
        "send_at": send_at,
    }
    rows = rows_of(recipients)
    if not rows:
        # Nobody to fill in for yet (a saved text chosen before the file): the
        # text as written, its placeholders named, no error before any input.
        try:
            named = placeholders_of(text)
        except PlaceholderError as exc:
            return PersonalisedEstimate(
                **{**_fields(estimate([], text, **options)), "text_error": str(exc)}
            )
        return PersonalisedEstimate(**_fields(estimate([], text, **options)), placeholders=named)
    try:
        placeholders = placeholders_of(text)
        grouped = group_texts(text, rows, columns=columns, skip_invalid=True)
    except PlaceholderError as exc:
        numbers = [number for number, _values in rows]
        plain = estimate(numbers, text, **options)
        return PersonalisedEstimate(
            **{**_fields(plain), "points": 0, "segments": 0, "text_error": str(exc)}
        )
    estimates = [estimate(list(g.numbers), g.body, **options) for g in grouped.groups]
    if not estimates:
        plain = estimate([], text, **options)
        return PersonalisedEstimate(
            **{
                **_fields(plain),
                "invalid_numbers": grouped.invalid,
                "duplicates": grouped.duplicates,
            },
            placeholders=placeholders,
        )
    worst = max(estimates, key=lambda e: (e.text_error is not None, e.segments, e.characters))
    problems: dict[str, dict[str, Any]] = {}
    for one in estimates:
        for problem in one.rule_problems:
            problems.setdefault(problem["rule"], problem)
    combined = replace(
        worst,
        valid_numbers=sum(e.valid_numbers for e in estimates),
        invalid_numbers=grouped.invalid,
        points=sum(e.points for e in estimates),
        rule_problems=tuple(problems.values()),
        duplicates=grouped.duplicates,
    )
    return PersonalisedEstimate(
        **_fields(combined), texts=len(estimates), placeholders=placeholders
    )


def _fields(one: Estimate) -> dict[str, Any]:
    return {name: getattr(one, name) for name in Estimate.__dataclass_fields__}

"""What a send would cost, before anything is stored: the admin's live counter and the API.

Built on the very functions :func:`~django_smsgo.services.sending.send_sms`
validates with (:mod:`django_smsgo.services.validation`) and on the same
carrier rules (:func:`~django_smsgo.services.carrier_rules.preview_rules`:
the sender tag and opt-out line are counted, the quiet hours shown), so an
estimate and the send that follows can never disagree on encoding, segments
or points (a property test holds them to it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from django_smsgo.client.encodings import Encoding
from django_smsgo.client.numbers import normalize_number
from django_smsgo.client.text import count_characters
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import InvalidNumberError, SmsgoValidationError
from django_smsgo.services import carrier_rules, validation

# How a single string lists several numbers (as normalize_numbers reads it).
_LIST_SEPARATORS = re.compile(r"[,;\n]")


@dataclass(frozen=True)
class Estimate:
    """Encoding, size and cost of one text to a list of numbers.

    ``encoding`` is what would be sent (None when the text cannot be sent as
    asked; ``text_error`` then says why, and ``segments`` and ``points`` are 0).
    ``valid_numbers`` counts distinct valid numbers; ``invalid_numbers`` lists
    each bad one as ``(value, reason)``; ``points`` is for the valid numbers only.
    ``body`` is the text that would be sent (sender tag and opt-out line added);
    ``rule_problems`` lists each carrier rule the send breaks (``rule``,
    ``setting``, ``value``, ``detail``); ``send_at`` is the time it would go out
    (``held``: the quiet hours set it); ``notes`` say what the rules did
    (``code``, ``text``).
    """

    encoding: str | None
    characters: int
    segments: int
    valid_numbers: int
    invalid_numbers: tuple[tuple[str, str], ...]
    points: int
    text_error: str | None = None
    body: str = ""
    rule_problems: tuple[dict[str, Any], ...] = ()
    send_at: datetime | None = None
    held: bool = False
    notes: tuple[dict[str, str], ...] = ()

    @property
    def sendable(self) -> bool:
        """True when the text fits, no carrier rule refuses it and a number is valid."""
        return self.text_error is None and not self.rule_problems and self.valid_numbers > 0


def estimate(
    to: str | Iterable[str],
    body: str,
    *,
    encoding: str | None = None,
    reply: bool = False,
    wap_url: str | None = None,
    kind: str | None = None,
    send_at: datetime | None = None,
) -> Estimate:
    """Estimate sending ``body`` to ``to``; store nothing, never raise for bad input.

    ``to`` is an iterable of numbers or one string of numbers separated by
    commas, semicolons or new lines; repeats count once. ``encoding=None``
    means the ``DEFAULT_ENCODING`` setting, and when that is None the encoding
    ``send_sms()`` would choose (the long variant when the text needs it).
    Points are counted per gateway request of at most 50 numbers, with the
    reply surcharge (+1 per 10 SMS, rounded up) when ``reply`` is set. Numbers
    on the opt-out list are counted too: the estimate is an upper bound.
    ``kind`` (default marketing) and ``send_at`` decide which carrier rules
    apply; the text is counted as they would send it.
    """
    valid, invalid = _sort_numbers(to)
    preview = _rules(body, kind, send_at, wap_url)
    ruled: dict[str, Any] = {}
    if preview is not None:
        body = preview.ruled.body
        ruled = {
            "body": body,
            "rule_problems": tuple(problem.as_dict() for problem in preview.problems),
            "send_at": preview.ruled.send_at,
            "held": preview.ruled.held,
            "notes": tuple({"code": note.code, "text": note.text} for note in preview.ruled.notes),
        }
    characters = count_characters(body)
    try:
        chosen = validation.choose_encoding(
            body, encoding or smsgo_settings.DEFAULT_ENCODING, wap_url
        )
        segments = validation.segments_of(body, chosen, wap_url)
    except SmsgoValidationError as exc:
        return Estimate(
            encoding=_known_encoding(encoding),
            characters=characters,
            segments=0,
            valid_numbers=len(valid),
            invalid_numbers=invalid,
            points=0,
            text_error=str(exc),
            **ruled,
        )
    points = validation.estimate_points(
        len(valid), body, chosen, wap_url=wap_url or "", reply=reply
    )
    return Estimate(
        encoding=chosen,
        characters=characters,
        segments=segments,
        valid_numbers=len(valid),
        invalid_numbers=invalid,
        points=points,
        **ruled,
    )


def _rules(
    body: str, kind: str | None, send_at: datetime | None, wap_url: str | None
) -> carrier_rules.RulesPreview | None:
    """The carrier rules' view of the text, or None where the send would not reach them."""
    if not isinstance(body, str) or not body.strip():
        return None
    if kind is not None and kind not in carrier_rules.KINDS:
        return None
    if send_at is not None and (not isinstance(send_at, datetime) or send_at.utcoffset() is None):
        send_at = None
    draft = carrier_rules.Draft(
        body=body,
        kind=kind or carrier_rules.MARKETING,
        now=timezone.now(),
        send_at=send_at,
        wap_url=wap_url or "",
    )
    try:
        return carrier_rules.preview_rules(draft)
    except ValueError:
        return None  # the settings are malformed; the system checks name them


def _sort_numbers(to: str | Iterable[str]) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    """Distinct normalised numbers (first seen order) and every bad one with its reason."""
    items = (
        [part for part in _LIST_SEPARATORS.split(to) if part.strip()]
        if isinstance(to, str)
        else list(to)
    )
    valid: dict[str, None] = {}
    invalid: list[tuple[str, str]] = []
    for item in items:
        try:
            valid[normalize_number(item)] = None
        except InvalidNumberError as exc:
            for value, reason in exc.invalid:
                invalid.append((str(value), reason))
    return list(valid), tuple(invalid)


def _known_encoding(encoding: str | None) -> str | None:
    """The asked-for encoding in its canonical spelling, or None when it is not one."""
    if encoding is None:
        return None
    try:
        return Encoding.parse(encoding).value
    except SmsgoValidationError:
        return None

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
from django_smsgo.client.text import (
    LONG_LIMIT,
    LONG_SEGMENT_ASCII,
    LONG_SEGMENT_OTHER,
    count_characters,
    is_ascii,
    single_limit,
)
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import InvalidNumberError, SmsgoValidationError
from django_smsgo.services import carrier_rules, validation, wording

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
    duplicates: int = 0
    characters_left: int | None = None
    ucs2_characters: tuple[str, ...] = ()
    full_width: tuple[tuple[str, str], ...] = ()

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
    valid, invalid, duplicates = _sort_numbers(to)
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
            text_error=wording.explain(exc),
            duplicates=duplicates,
            **hints(body, None),
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
        duplicates=duplicates,
        characters_left=characters_left(body, chosen, segments),
        **hints(body, chosen),
        **ruled,
    )


def characters_left(body: str, encoding: str, segments: int) -> int | None:
    """Characters that still fit in the last SMS of ``body`` (None for a WAP push)."""
    chosen = Encoding.parse(encoding)
    if chosen is Encoding.PUSH:
        return None
    count = count_characters(body)
    if not chosen.is_long:
        return max(single_limit(body) - count, 0)
    if segments <= 1 and count <= single_limit(body):
        return single_limit(body) - count
    per_part = LONG_SEGMENT_ASCII if is_ascii(body) else LONG_SEGMENT_OTHER
    return max(min(segments * per_part, LONG_LIMIT) - count, 0)


def hints(body: str, encoding: str | None) -> dict[str, Any]:
    """What makes the text dearer than it needs to be: UCS2 characters, full-width ASCII."""
    if not isinstance(body, str) or body.isascii():
        return {}
    others = {char for char in body if not char.isascii()}
    folded = {char: wording.half_width(char) for char in others}
    found: dict[str, Any] = {}
    if all(folded.values()):
        found["full_width"] = tuple(sorted((c, h) for c, h in folded.items() if h))
    if encoding is None or Encoding.parse(encoding).charset == "unicode":
        outside = sorted(c for c in others if not _in_cp950(c))
        if outside:
            found["ucs2_characters"] = tuple(outside)
    return found


def _in_cp950(char: str) -> bool:
    try:
        char.encode("cp950")
    except UnicodeEncodeError:
        return False
    return True


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


def _sort_numbers(
    to: str | Iterable[str],
) -> tuple[list[str], tuple[tuple[str, str], ...], int]:
    """Distinct normalised numbers (first seen order), every bad one with its reason
    (in the active language), and how many numbers were repeats."""
    items = (
        [part for part in _LIST_SEPARATORS.split(to) if part.strip()]
        if isinstance(to, str)
        else list(to)
    )
    valid: dict[str, None] = {}
    invalid: list[tuple[str, str]] = []
    repeats = 0
    for item in items:
        try:
            number = normalize_number(item)
        except InvalidNumberError as exc:
            for value, reason in exc.invalid:
                invalid.append((str(value), wording.number_reason(reason)))
            continue
        repeats += number in valid
        valid[number] = None
    return list(valid), tuple(invalid), repeats


def _known_encoding(encoding: str | None) -> str | None:
    """The asked-for encoding in its canonical spelling, or None when it is not one."""
    if encoding is None:
        return None
    try:
        return Encoding.parse(encoding).value
    except SmsgoValidationError:
        return None

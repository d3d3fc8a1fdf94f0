"""What a send would cost, before anything is stored: the admin's live counter and the API.

Built on the very functions :func:`~django_smsgo.services.sending.send_sms`
validates with (:mod:`django_smsgo.services.validation`), so an estimate and
the send that follows can never disagree on encoding, segments or points (a
property test holds them to it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django_smsgo.client.encodings import Encoding
from django_smsgo.client.numbers import normalize_number
from django_smsgo.client.text import count_characters
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import InvalidNumberError, SmsgoValidationError
from django_smsgo.services import validation

# How a single string lists several numbers (as normalize_numbers reads it).
_LIST_SEPARATORS = re.compile(r"[,;\n]")


@dataclass(frozen=True)
class Estimate:
    """Encoding, size and cost of one text to a list of numbers.

    ``encoding`` is what would be sent (None when the text cannot be sent as
    asked; ``text_error`` then says why, and ``segments`` and ``points`` are 0).
    ``valid_numbers`` counts distinct valid numbers; ``invalid_numbers`` lists
    each bad one as ``(value, reason)``; ``points`` is for the valid numbers only.
    """

    encoding: str | None
    characters: int
    segments: int
    valid_numbers: int
    invalid_numbers: tuple[tuple[str, str], ...]
    points: int
    text_error: str | None = None

    @property
    def sendable(self) -> bool:
        """True when the text fits and at least one number is valid."""
        return self.text_error is None and self.valid_numbers > 0


def estimate(
    to: str | Iterable[str],
    body: str,
    *,
    encoding: str | None = None,
    reply: bool = False,
    wap_url: str | None = None,
) -> Estimate:
    """Estimate sending ``body`` to ``to``; store nothing, never raise for bad input.

    ``to`` is an iterable of numbers or one string of numbers separated by
    commas, semicolons or new lines; repeats count once. ``encoding=None``
    means the ``DEFAULT_ENCODING`` setting, and when that is None the encoding
    ``send_sms()`` would choose (the long variant when the text needs it).
    Points are counted per gateway request of at most 50 numbers, with the
    reply surcharge (+1 per 10 SMS, rounded up) when ``reply`` is set. Numbers
    on the opt-out list are counted too: the estimate is an upper bound.
    """
    valid, invalid = _sort_numbers(to)
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
    )


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

"""Receiver numbers: normalisation to the form the gateway takes, and the 50-per-request rule.

Domestic numbers are sent as ``09`` + 8 digits; every common way of writing a
Taiwanese mobile number (``0912-345-678``, ``(0912)345678``, ``+886 912 345 678``,
``886912345678``) is normalised to that. International numbers are sent as
``+<country code><number>`` and must be valid mobile-capable numbers for the
``phonenumbers`` library.

A number may also be given as a ``phonenumbers.PhoneNumber`` (which
django-phonenumber-field's ``PhoneNumber`` is a subclass of): it is formatted
to E.164 and then follows the same rules, so ``+8869…`` becomes ``09…``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

import phonenumbers

from django_smsgo.client.digits import ForeignDigitError, ascii_digits
from django_smsgo.exceptions import InvalidNumberError, TooManyNumbersError

#: The gateway takes at most this many receivers in one send request.
MAX_NUMBERS_PER_REQUEST = 50

_DOMESTIC = re.compile(r"09[0-9]{8}")
_ASCII_DIGITS = re.compile(r"[0-9]+")
# Separators people type inside a number; anything else is an error.
_SEPARATORS = re.compile(r"[\s\-.()/\u00a0\u3000]")
# A Taiwanese mobile written with the country code but without "+" (E.164 as
# many CRMs store it). Unambiguous: domestic numbers always start with 0.
_TW_WITHOUT_PLUS = re.compile(r"886(9[0-9]{8})")
_MOBILE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)
# The full-width comma and semicolon and the ideographic comma are what a
# Chinese input method types between the numbers of a list.
_LIST_SEPARATORS = re.compile(r"[,;\n，；、]")

T = TypeVar("T")

#: One receiver: text, or a parsed ``phonenumbers.PhoneNumber``.
Number = str | phonenumbers.PhoneNumber
#: What a list of receivers may be given as: one string (numbers separated by
#: commas, semicolons or new lines), one ``PhoneNumber``, or an iterable of both.
NumberInput = str | phonenumbers.PhoneNumber | Iterable[Number]


def gettext_noop(text: str) -> str:
    """Marks a reason for the translation catalogue; the client itself needs no Django.

    The reason stays English here (logs, callers in code); the app's services
    translate it when a person reads it (``services.wording.number_reason``).
    """
    return text


class _Invalid(Exception):
    """Why one number is invalid (internal: collected into InvalidNumberError)."""


def _from_phone_number(number: phonenumbers.PhoneNumber) -> str:
    if number.country_code is None or number.national_number is None:
        raise _Invalid(gettext_noop("the PhoneNumber holds no number"))
    if number.extension:
        raise _Invalid(gettext_noop("a number with an extension cannot receive SMS"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalize(value: object) -> str:
    if isinstance(value, str) and _DOMESTIC.fullmatch(value):
        return value  # already the gateway's form (a stored number, say)
    if isinstance(value, phonenumbers.PhoneNumber):
        value = _from_phone_number(value)
    if not isinstance(value, str):
        raise _Invalid(
            gettext_noop("a number must be given as text (an integer loses the leading 0 of 09…)")
        )
    try:
        # Before anything else, so that a full-width spelling is the same number.
        value = ascii_digits(value)
    except ForeignDigitError as error:
        raise _Invalid(str(error)) from None
    compact = _SEPARATORS.sub("", value)
    if not compact:
        raise _Invalid(gettext_noop("the number is empty"))
    if compact.startswith("00"):
        # International dialling prefix, as in 00886912345678.
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        return _international(compact)
    if not _ASCII_DIGITS.fullmatch(compact):
        raise _Invalid(
            gettext_noop("a number may hold only digits, spaces, dashes, dots and brackets")
        )
    if _DOMESTIC.fullmatch(compact):
        return compact
    taiwan = _TW_WITHOUT_PLUS.fullmatch(compact)
    if taiwan:
        return "0" + taiwan.group(1)
    raise _Invalid(gettext_noop("a Taiwanese mobile number is 09 followed by 8 digits (10 digits)"))


def _international(compact: str) -> str:
    if not _ASCII_DIGITS.fullmatch(compact[1:]):
        raise _Invalid(gettext_noop("after + only digits may follow (country code and number)"))
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        raise _Invalid(
            gettext_noop("not an international number (+<country code><number>)")
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise _Invalid(gettext_noop("not a valid number for its country"))
    if parsed.country_code == 886:
        national = "0" + str(parsed.national_number)
        if _DOMESTIC.fullmatch(national):
            return national
        raise _Invalid(gettext_noop("a Taiwanese number must be a mobile number (+886 9…)"))
    if phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise _Invalid(gettext_noop("not a mobile number; SMS reach mobile numbers only"))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_number(value: Number) -> str:
    """``value`` in the form the gateway takes: ``09xxxxxxxx`` or ``+<country><number>``.

    ``value`` is text or a ``phonenumbers.PhoneNumber`` (formatted to E.164 first).

    Raises :class:`~django_smsgo.exceptions.InvalidNumberError` (a ``ValueError``)
    naming the value and the rule it breaks.
    """
    try:
        return _normalize(value)
    except _Invalid as invalid:
        reason = str(invalid)
    raise InvalidNumberError([(value, reason)])


def normalize_numbers(values: NumberInput) -> tuple[str, ...]:
    """Every number normalised, repeats dropped (first one kept), order kept.

    ``values`` is an iterable of numbers (text or ``phonenumbers.PhoneNumber``,
    mixed), one ``PhoneNumber``, or one string of numbers separated by
    commas, semicolons or new lines (full-width ``，`` ``；`` and ``、`` too).
    Every invalid number is reported in one
    :class:`~django_smsgo.exceptions.InvalidNumberError`, each with its reason.
    A list may be longer than one request takes; see :func:`chunked`.
    """
    items: list[object]
    if isinstance(values, str):
        items = [part for part in _LIST_SEPARATORS.split(values) if part.strip()]
    elif isinstance(values, phonenumbers.PhoneNumber):
        items = [values]
    else:
        items = list(values)
    if not items:
        raise InvalidNumberError([(values, "at least one number is needed")])
    normalised: dict[str, None] = {}
    invalid: list[tuple[object, str]] = []
    for item in items:
        try:
            normalised[_normalize(item)] = None
        except _Invalid as error:
            invalid.append((item, str(error)))
    if invalid:
        raise InvalidNumberError(invalid)
    return tuple(normalised)


def check_request_size(numbers: Sequence[str]) -> None:
    """Raise :class:`~django_smsgo.exceptions.TooManyNumbersError` past 50 numbers."""
    if len(numbers) > MAX_NUMBERS_PER_REQUEST:
        raise TooManyNumbersError(
            len(numbers),
            f"one request takes at most {MAX_NUMBERS_PER_REQUEST} numbers",
            f"{len(numbers)} numbers in one request; the gateway takes at most "
            f"{MAX_NUMBERS_PER_REQUEST}. Split them with "
            "django_smsgo.client.numbers.chunked(numbers, 50).",
        )


def is_international(number: str) -> bool:
    """True for a normalised international number (``+…``)."""
    return number.startswith("+")


def chunked(items: Iterable[T], size: int = MAX_NUMBERS_PER_REQUEST) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"chunk size {size!r} must be at least 1")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

"""Phone numbers in a text, in any spelling, and the project's registered list.

The NCC's anti-fraud measure of 2024-11-18 covers phone numbers in business
SMS as it covers links: a number not registered with the carrier in advance
gets the SMS dropped. :func:`find_phone_numbers` finds the numbers a reader
would call, written with spaces, dashes, dots or brackets, with ``+886``,
``886`` or ``00886``, in full-width digits (``０９１２－３４５－６７８``):

* Taiwanese numbers with their leading 0 and 9 or 10 digits: mobiles
  (``09…``), landlines with the area code (``02-2345-6789``, ``(037)123456``),
  toll-free and special numbers (``0800-…``);
* international numbers written with ``+`` or ``00`` (``+1 212 555 0100``).

Not found, on purpose: numbers without their area code (``2345-6789``), which
cannot be told apart from an order number or a code, and three- to
five-digit service numbers (``165``, ``1922``). Digits inside a link belong
to the link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django_smsgo.services.carrier_rules.errors import UnregisteredNumberError
from django_smsgo.services.carrier_rules.links import link_spans
from django_smsgo.services.carrier_rules.normalise import normalise

# Digit groups joined by at most one separator (with brackets around an area
# code), so that "0912345678 0223456789" can still be read as two numbers.
_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])(?:\+\s?|\(\s?\+?)?\d+(?:(?:\)\s?|\s?\(|[ \-.\u00a0]\(?)?\d+)*\)?"
)
_GROUP = re.compile(r"\d+")
_NATIONAL = re.compile(r"0[1-9]\d{7,8}")
_E164 = re.compile(r"\+[1-9]\d{7,14}")


@dataclass(frozen=True)
class FoundNumber:
    """One phone number of a text: ``number`` in one spelling (``0912345678``,
    ``0223456789``, ``+12125550100``), ``written`` as it stands at ``start:end``."""

    number: str
    written: str
    start: int
    end: int


def canonical_number(value: str) -> str | None:
    """``value`` in the one spelling numbers are compared in, or None when it is no number.

    Taiwanese numbers in national form with their leading 0 (``+886 2 2345
    6789`` -> ``0223456789``); other countries as ``+`` and digits.
    """
    text = normalise(value).text.strip()
    international = text.startswith("+") or text.startswith("(+")
    digits = re.sub(r"\D", "", text)
    if international:
        digits = "+" + digits
    elif digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("886") and len(digits) in (11, 12):
        digits = "+" + digits
    if digits.startswith("+886"):
        national = "0" + digits[4:].lstrip("0")
        return national if _NATIONAL.fullmatch(national) else None
    if digits.startswith("+"):
        return digits if _E164.fullmatch(digits) else None
    return digits if _NATIONAL.fullmatch(digits) else None


def find_phone_numbers(text: str) -> list[FoundNumber]:
    """Every phone number in ``text`` (see the module's notes for what counts), in order."""
    normalised = normalise(text)
    in_links = link_spans(text)
    found: list[FoundNumber] = []
    for match in _CANDIDATE.finditer(normalised.text):
        groups = list(_GROUP.finditer(match.group(0)))
        first = 0
        while first < len(groups):
            number, last = _longest_number(match.group(0), groups, first)
            if number is None:
                first += 1
                continue
            start = match.start() + _start_of(match.group(0), groups[first].start())
            end = match.start() + groups[last].end()
            if match.group(0)[groups[last].end() :].startswith(")"):
                end += 1
            w_start, w_end = normalised.written_span(start, end)
            if not any(w_start < l_end and l_start < w_end for l_start, l_end in in_links):
                found.append(FoundNumber(number, text[w_start:w_end], w_start, w_end))
            first = last + 1
    return found


def _start_of(candidate: str, position: int) -> int:
    """Take a "+" or "(" right before the first digit group into the number."""
    while position > 0 and candidate[position - 1] in "+( ":
        if candidate[position - 1] == " " and (position < 2 or candidate[position - 2] != "+"):
            break
        position -= 1
    return position


def _longest_number(
    candidate: str, groups: Sequence[re.Match[str]], first: int
) -> tuple[str | None, int]:
    """The longest run of digit groups from ``first`` on that is a phone number."""
    for last in range(len(groups) - 1, first - 1, -1):
        start = _start_of(candidate, groups[first].start())
        number = canonical_number(candidate[start : groups[last].end()])
        if number is not None:
            return number, last
    return None, first


def parse_registered_numbers(entries: Iterable[str]) -> frozenset[str]:
    """``REGISTERED_NUMBERS`` in canonical spelling; ``ValueError`` names the first bad entry."""
    numbers: set[str] = set()
    for entry in entries:
        number = canonical_number(entry) if isinstance(entry, str) else None
        if number is None:
            raise ValueError(
                f"REGISTERED_NUMBERS entry {entry!r} is not a phone number with its area "
                "code (e.g. '02-2345-6789', '0800-123-456', '+886 912 345 678')."
            )
        numbers.add(number)
    return frozenset(numbers)


def check_numbers(text: str, *, registered: Sequence[str] | None) -> list[FoundNumber]:
    """Refuse the first phone number of ``text`` not on ``registered``.

    ``registered=None`` means numbers are not checked (the rule is off).
    Returns the numbers found; raises :class:`UnregisteredNumberError`.
    """
    numbers = find_phone_numbers(text)
    if registered is None:
        return numbers
    allowed = parse_registered_numbers(registered)
    for found in numbers:
        if found.number not in allowed:
            raise UnregisteredNumberError(found.number, written=found.written)
    return numbers

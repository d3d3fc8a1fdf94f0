"""Placeholders in a text (``{name}``, ``{code}``): read, filled in per recipient, grouped.

A placeholder is a name in braces; ``{{`` and ``}}`` write a brace. Names are
matched to the values' keys (a CSV file's column headers) without regard to
case or surrounding spaces. Format specifications (``{name:>10}``),
conversions (``{name!r}``), numbered and empty placeholders are refused.
Every refusal is a :class:`PlaceholderError` naming the placeholder, worded in
the language active when it is read. Plain Python and Django's translation
only: :mod:`~django_smsgo.services.personalising` sends what this groups.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, ngettext

from django_smsgo.client.numbers import normalize_number
from django_smsgo.exceptions import InvalidNumberError, SmsgoValidationError

#: Values per recipient: ``(number, {column: value})`` pairs or ``{number: {column: value}}``.
Recipients = Iterable[tuple[Any, Mapping[str, Any]]] | Mapping[Any, Mapping[str, Any]]

#: Numbers named in full in an error; beyond this the list is cut with a count.
NAMED_IN_ERRORS = 10


# --------------------------------------------------------------------------- errors


class PlaceholderError(SmsgoValidationError):
    """A text's placeholders cannot be filled in; nothing was stored.

    ``placeholder`` is the placeholder's name (or the text, for a syntax
    error). ``str(error)`` is worded in the language active when it is read.
    """

    rule_code = "placeholder"

    def __init__(self, placeholder: str, rule: str) -> None:
        self.placeholder = placeholder
        super().__init__(placeholder, rule)

    def describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


class PlaceholderSyntaxError(PlaceholderError):
    """The text's braces are not placeholders: unbalanced, empty, numbered or formatted.

    ``problem`` is a code: ``unopened``, ``unclosed``, ``empty``, ``not_a_name``
    or ``formatted``; ``written`` the placeholder as written.
    """

    rule_code = "placeholder_syntax"

    def __init__(self, template: str, problem: str, written: str = "") -> None:
        self.problem = problem
        self.written = written
        super().__init__(template, "a placeholder is a name in braces, {name}; {{ and }} a brace")

    def describe(self) -> str:
        return gettext(
            "The text's placeholders cannot be read: %(problem)s. A placeholder is a name "
            "in braces, like {name}; write {{ or }} for a brace in the text."
        ) % {"problem": self.problem_words()}

    def problem_words(self) -> str:
        """What is wrong with the braces, in the active language."""
        if self.problem == "unopened":
            return gettext("a “}” without its “{”")
        if self.problem == "unclosed":
            return gettext("a “{” without its “}”")
        if self.problem == "empty":
            return gettext("“{}” has no name")
        if self.problem == "formatted":
            return gettext("“%(written)s” is formatted; write just {name}") % {
                "written": self.written
            }
        return gettext("“%(written)s” is not a name (no digits alone, dots or brackets)") % {
            "written": self.written
        }


class UnknownPlaceholderError(PlaceholderError):
    """A placeholder is none of the given columns: no recipient has a value for it."""

    rule_code = "unknown_placeholder"

    def __init__(self, placeholder: str, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        super().__init__(placeholder, "every placeholder needs a column of values")

    def describe(self) -> str:
        if not self.columns:
            return gettext(
                "The placeholder {%(name)s} has no values: upload a CSV or XLSX file with a "
                "column headed “%(name)s”."
            ) % {"name": self.placeholder}
        return gettext(
            "The placeholder {%(name)s} is not a column of the file; its columns are %(columns)s."
        ) % {"name": self.placeholder, "columns": ", ".join(self.columns)}


class MissingPlaceholderValueError(PlaceholderError):
    """Some recipients have no value (or an empty one) for a placeholder."""

    rule_code = "missing_placeholder_value"

    def __init__(self, placeholder: str, numbers: Sequence[str]) -> None:
        self.numbers = list(numbers)
        super().__init__(placeholder, "every recipient needs a value for every placeholder")

    def describe(self) -> str:
        shown = ", ".join(self.numbers[:NAMED_IN_ERRORS])
        more = len(self.numbers) - NAMED_IN_ERRORS
        if more > 0:
            shown += gettext(" and %(count)d more") % {"count": more}
        return ngettext(
            "The placeholder {%(name)s} has no value for %(count)d recipient: %(numbers)s.",
            "The placeholder {%(name)s} has no value for %(count)d recipients: %(numbers)s.",
            len(self.numbers),
        ) % {"name": self.placeholder, "count": len(self.numbers), "numbers": shown}


# --------------------------------------------------------------------------- texts


@dataclass(frozen=True)
class Template:
    """A text with placeholders, parsed: literal pieces and the placeholder after each."""

    text: str
    pieces: tuple[tuple[str, str | None], ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholders' names, each once, in the order they first appear."""
        return tuple(dict.fromkeys(name for _literal, name in self.pieces if name is not None))

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with every placeholder replaced by its value (keys made by :func:`key`)."""
        return "".join(
            literal + (values[key(name)] if name is not None else "")
            for literal, name in self.pieces
        )


def key(name: str) -> str:
    """How a placeholder and a column header are matched: case and outer spaces ignored."""
    return name.strip().casefold()


def parse(text: str) -> Template:
    """``text`` as a :class:`Template`; raises :class:`PlaceholderSyntaxError`."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        problem = "unopened" if "Single '}'" in str(exc) else "unclosed"
        raise PlaceholderSyntaxError(text, problem) from None
    pieces: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None))
            continue
        written = "{" + name + (f"!{conversion}" if conversion else "")
        written += (f":{spec}" if spec else "") + "}"
        if conversion is not None or spec:
            raise PlaceholderSyntaxError(text, "formatted", written)
        if not name.strip():
            raise PlaceholderSyntaxError(text, "empty", written)
        if name.strip().isdigit() or any(char in name for char in ".[]"):
            raise PlaceholderSyntaxError(text, "not_a_name", written)
        pieces.append((literal, name.strip()))
    return Template(text, tuple(pieces))


def placeholders_of(text: str) -> tuple[str, ...]:
    """The placeholders ``text`` names; raises :class:`PlaceholderSyntaxError`."""
    return parse(text).placeholders


@dataclass(frozen=True)
class TextGroup:
    """One final text and the numbers (normalised, first-seen order) that get it."""

    body: str
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class Grouped:
    """A personalised send filled in: its distinct texts, and what was left out."""

    groups: tuple[TextGroup, ...]
    invalid: tuple[tuple[str, str], ...] = ()
    #: Numbers given more than once; the first row's values are used.
    duplicates: int = 0


def group_texts(
    text: str,
    recipients: Recipients,
    *,
    columns: Sequence[str] | None = None,
    skip_invalid: bool = False,
) -> Grouped:
    """Fill ``text`` in for every recipient and group the recipients by final text.

    ``recipients`` gives each number its values; ``columns`` (a file's headers)
    are the names a placeholder may use (default: every key of any
    recipient's values). A number given twice keeps its first values. Bad
    numbers raise one ``InvalidNumberError`` naming all of them, unless
    ``skip_invalid`` (then they are listed in ``invalid``). Raises
    :class:`PlaceholderSyntaxError`, :class:`UnknownPlaceholderError` or
    :class:`MissingPlaceholderValueError`.
    """
    template = parse(text)
    rows = rows_of(recipients)
    known = _known_columns(rows, columns)
    for name in template.placeholders:
        if key(name) not in known:
            raise UnknownPlaceholderError(name, list(known.values()))
    seen: set[str] = set()
    invalid: list[tuple[str, str]] = []
    duplicates = 0
    missing: dict[str, list[str]] = {}
    by_body: dict[str, list[str]] = {}
    for number, values in rows:
        try:
            normal = normalize_number(number)
        except InvalidNumberError as exc:
            invalid.extend((str(value), reason) for value, reason in exc.invalid)
            continue
        if normal in seen:
            duplicates += 1
            continue
        seen.add(normal)
        keyed = {key(str(column)): _value(value) for column, value in values.items()}
        absent = [name for name in template.placeholders if not keyed.get(key(name))]
        for name in absent:
            missing.setdefault(name, []).append(str(number))
        if not absent:
            by_body.setdefault(template.fill(keyed), []).append(normal)
    if invalid and not skip_invalid:
        raise InvalidNumberError(invalid)
    for name in template.placeholders:
        if name in missing:
            raise MissingPlaceholderValueError(name, missing[name])
    groups = tuple(TextGroup(body, tuple(numbers)) for body, numbers in by_body.items())
    return Grouped(groups, tuple(invalid), duplicates)


def rows_of(recipients: Recipients) -> list[tuple[Any, Mapping[str, Any]]]:
    """``recipients`` as a list of ``(number, values)`` pairs."""
    if isinstance(recipients, Mapping):
        return list(recipients.items())
    return [(number, values) for number, values in recipients]


def _known_columns(
    rows: Sequence[tuple[Any, Mapping[str, Any]]], columns: Sequence[str] | None
) -> dict[str, str]:
    names = columns if columns is not None else [str(c) for _n, v in rows for c in v]
    return {key(name): name.strip() for name in names if name.strip()}


def _value(value: Any) -> str:
    """A recipient's value as text; None and blanks are no value."""
    return "" if value is None else str(value).strip()

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

A placeholder is a name in braces; ``{{`` and ``}}`` write a brace. Names are
matched to the values' keys (a CSV file's column headers) without regard to
case or surrounding spaces. Format specifications (``{name:>10}``),
conversions (``{name!r}``), numbered and empty placeholders are refused.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext, ngettext

from django_smsgo.client.numbers import normalize_number
from django_smsgo.exceptions import (
    InvalidNumberError,
    OptionNotAllowedError,
    SmsgoError,
    SmsgoValidationError,
)
from django_smsgo.models import Message
from django_smsgo.services import hooks, locks, sending, validation
from django_smsgo.services.estimates import Estimate, estimate

#: Values per recipient: ``(number, {column: value})`` pairs or ``{number: {column: value}}``.
Recipients = Iterable[tuple[Any, Mapping[str, Any]]] | Mapping[Any, Mapping[str, Any]]

#: Placeholders named in full in an error; beyond this the list is cut with a count.
NAMED_IN_ERRORS = 10

#: The longest key a caller may give: the derived keys of the other texts add a suffix.
KEY_SUFFIX_ROOM = 12


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
    rows = _rows(recipients)
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


def _rows(recipients: Recipients) -> list[tuple[Any, Mapping[str, Any]]]:
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
    numbers given twice (their first row is used).
    """

    texts: int = 0
    placeholders: tuple[str, ...] = ()
    duplicates: int = 0
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
    rows = _rows(recipients)
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
            **{**_fields(plain), "invalid_numbers": grouped.invalid},
            placeholders=placeholders,
            duplicates=grouped.duplicates,
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
    )
    return PersonalisedEstimate(
        **_fields(combined),
        texts=len(estimates),
        placeholders=placeholders,
        duplicates=grouped.duplicates,
    )


def _fields(one: Estimate) -> dict[str, Any]:
    return {name: getattr(one, name) for name in Estimate.__dataclass_fields__}

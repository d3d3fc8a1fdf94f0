"""Taiwan's carrier rules and the duties of marketing SMS, checked before a point is spent.

One module per rule, each usable on its own:

* :mod:`.sender_tag` — the text names its sender (簡訊實名制, carriers since 2025-11-01);
* :mod:`.links` and :mod:`.numbers` — links and phone numbers in the text are
  registered (NCC anti-fraud measure of 2024-11-18), however they are written;
* :mod:`.quiet_hours` — no marketing SMS delivered at night, on Taipei's clock;
* :mod:`.footer` — marketing texts carry the way to refuse further ones;
* :mod:`.budget` — caps of points per kind per Taipei day and month.

:func:`apply_rules` runs the first four over a :class:`Draft` and returns the
:class:`RuledDraft` to store and send (final text, final send time), or raises
the :class:`~.errors.CarrierRuleError` of the first rule broken.
:func:`preview_rules` does the same without raising, for a live counter. The
budget needs the database and the final points, so the store step calls
:func:`check_budget` inside its transaction. Which rule applies to which kind
of message, and every setting, is in ``docs/taiwan.rst``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext

from django_smsgo.reasons import Reason, describe
from django_smsgo.services.carrier_rules.errors import (
    CarrierRuleError,
    PointsBudgetError,
    QuietHoursError,
    SenderTagMissingError,
    UnregisteredLinkError,
    UnregisteredNumberError,
)
from django_smsgo.services.carrier_rules.footer import apply_opt_out_footer
from django_smsgo.services.carrier_rules.links import (
    DEFAULT_SHORT_LINK_HOSTS,
    FoundLink,
    check_links,
    find_links,
)
from django_smsgo.services.carrier_rules.numbers import (
    FoundNumber,
    check_numbers,
    find_phone_numbers,
)
from django_smsgo.services.carrier_rules.quiet_hours import (
    MOVE,
    REFUSE,
    QuietRange,
    describe_ranges,
    parse_quiet_hours,
    window_end,
)
from django_smsgo.services.carrier_rules.sender_tag import apply_sender_tag

if TYPE_CHECKING:
    from django_smsgo.services.carrier_rules.budget import BudgetUse

MARKETING = "marketing"
TRANSACTIONAL = "transactional"
KINDS = (TRANSACTIONAL, MARKETING)

__all__ = [
    "CarrierRuleError",
    "CarrierRules",
    "Draft",
    "FoundLink",
    "FoundNumber",
    "PointsBudgetError",
    "QuietHoursError",
    "RuleNote",
    "RuledDraft",
    "RulesPreview",
    "SenderTagMissingError",
    "UnregisteredLinkError",
    "UnregisteredNumberError",
    "apply_rules",
    "check_budget",
    "find_links",
    "find_phone_numbers",
    "hold_for_quiet_hours",
    "preview_rules",
    "shape_text",
]


@dataclass(frozen=True)
class CarrierRules:
    """The rules as the project configured them (``CarrierRules.from_settings()``)."""

    sender_tag: str = ""
    sender_tag_mode: str | None = None
    sender_tag_kinds: frozenset[str] = frozenset(KINDS)
    registered_links: tuple[str, ...] | None = None
    registered_numbers: tuple[str, ...] | None = None
    short_link_hosts: tuple[str, ...] = DEFAULT_SHORT_LINK_HOSTS
    link_check_kinds: frozenset[str] = frozenset(KINDS)
    quiet_hours: tuple[QuietRange, ...] = ()
    quiet_hours_scheduled: str = MOVE
    opt_out_footer: str = ""

    @classmethod
    def from_settings(cls) -> CarrierRules:
        """The rules of the ``SMSGO`` settings (``ValueError`` for a malformed value)."""
        from django_smsgo.conf import smsgo_settings as s

        def optional_tuple(value: Any) -> tuple[str, ...] | None:
            return None if value is None else tuple(value)

        return cls(
            sender_tag=s.SENDER_TAG or "",
            sender_tag_mode=s.SENDER_TAG_MODE,
            sender_tag_kinds=frozenset(s.SENDER_TAG_KINDS),
            registered_links=optional_tuple(s.REGISTERED_LINKS),
            registered_numbers=optional_tuple(s.REGISTERED_NUMBERS),
            short_link_hosts=tuple(s.SHORT_LINK_HOSTS or ()),
            link_check_kinds=frozenset(s.LINK_CHECK_KINDS),
            quiet_hours=parse_quiet_hours(s.QUIET_HOURS),
            quiet_hours_scheduled=s.QUIET_HOURS_SCHEDULED,
            opt_out_footer=s.OPT_OUT_FOOTER or "",
        )


@dataclass(frozen=True)
class Draft:
    """What is about to be sent: the text as typed, its kind, its time.

    ``send_at`` is None for "now"; ``now`` is the moment of the decision
    (aware); ``expires_at`` and ``wap_url`` are checked too when given.
    """

    body: str
    kind: str
    now: datetime
    send_at: datetime | None = None
    expires_at: datetime | None = None
    wap_url: str = ""


@dataclass(frozen=True)
class RuleNote:
    """Something a rule did to the draft, for the confirmation page: a code and its data."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    SENDER_TAG_ADDED = "sender_tag_added"
    FOOTER_ADDED = "opt_out_footer_added"
    HELD = "held_for_quiet_hours"
    MOVED = "moved_out_of_quiet_hours"

    @property
    def text(self) -> str:
        """The note in words, in the active language."""
        if self.code == self.SENDER_TAG_ADDED:
            return gettext("The sender tag %(tag)s was put in front of the text.") % self.params
        if self.code == self.FOOTER_ADDED:
            return gettext("The opt-out line %(footer)s was added to the end.") % {
                "footer": str(self.params.get("footer", "")).strip()
            }
        if self.code in (self.HELD, self.MOVED):
            return describe(Reason.QUIET_HOURS, self.reason_params())
        return self.code

    def reason_params(self) -> dict[str, Any]:
        """The note's data as stored with a message's reason (plain JSON values)."""
        params = {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.params.items()
        }
        if self.code == self.MOVED:
            params["moved"] = True
        return params

    def as_dict(self) -> dict[str, Any]:
        """The note as data (an API answer)."""
        params = {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.params.items()
        }
        return {"code": self.code, "params": params, "text": self.text}


#: The notes that say a send was held or moved by the quiet hours.
QUIET_HOURS_NOTES = frozenset({RuleNote.HELD, RuleNote.MOVED})


@dataclass(frozen=True)
class RuledDraft:
    """A draft the rules let through: the text and time to store and send.

    ``body`` is the final text (sender tag and opt-out line added, as
    configured): count segments and points on it. ``send_at`` is the final
    time: ``held`` tells that the quiet hours set or moved it (hand it to the
    gateway as ``dlvtime``, so the send can still be cancelled). ``notes`` say
    what the rules did, for the confirmation page.
    """

    body: str
    kind: str
    send_at: datetime | None
    held: bool
    original_body: str
    original_send_at: datetime | None
    tag_added: bool = False
    footer_added: bool = False
    links: tuple[FoundLink, ...] = ()
    numbers: tuple[FoundNumber, ...] = ()
    notes: tuple[RuleNote, ...] = ()


@dataclass(frozen=True)
class RulesPreview:
    """:func:`preview_rules`' answer: the draft as the rules would make it, and every refusal."""

    ruled: RuledDraft
    problems: tuple[CarrierRuleError, ...]

    @property
    def allowed(self) -> bool:
        """True when no rule refuses the draft."""
        return not self.problems


def apply_rules(draft: Draft, rules: CarrierRules | None = None) -> RuledDraft:
    """Apply the sender-tag, opt-out line, link, number and quiet-hours rules to ``draft``.

    ``rules`` defaults to :meth:`CarrierRules.from_settings`. Raises the
    :class:`CarrierRuleError` of the first rule broken; nothing is stored here.
    """
    preview = preview_rules(draft, rules)
    if preview.problems:
        raise preview.problems[0]
    return preview.ruled


def preview_rules(draft: Draft, rules: CarrierRules | None = None) -> RulesPreview:
    """Like :func:`apply_rules`, but collects every refusal instead of raising the first.

    For live displays (the admin's counter, an estimate): the text is shaped
    as far as the rules allow and every broken rule is listed.
    """
    rules = rules if rules is not None else CarrierRules.from_settings()
    problems: list[CarrierRuleError] = []
    notes: list[RuleNote] = []
    body = draft.body
    marketing = draft.kind == MARKETING

    tag_added = False
    if draft.kind in rules.sender_tag_kinds:
        try:
            tagged = apply_sender_tag(body, tag=rules.sender_tag, mode=rules.sender_tag_mode)
        except SenderTagMissingError as exc:
            problems.append(exc)
        else:
            body, tag_added = tagged.body, tagged.added
            if tag_added:
                notes.append(RuleNote(RuleNote.SENDER_TAG_ADDED, {"tag": rules.sender_tag}))

    footer_added = False
    if marketing:
        footed = apply_opt_out_footer(body, footer=rules.opt_out_footer)
        body, footer_added = footed.body, footed.added
        if footer_added:
            notes.append(RuleNote(RuleNote.FOOTER_ADDED, {"footer": rules.opt_out_footer}))

    links: list[FoundLink] = []
    numbers: list[FoundNumber] = []
    if draft.kind in rules.link_check_kinds:
        links, numbers = _check_text(body, draft.wap_url, rules, problems)

    send_at, held = draft.send_at, False
    if marketing and rules.quiet_hours:
        try:
            send_at, held, note = _quiet_hours(draft, rules)
        except QuietHoursError as exc:
            problems.append(exc)
        else:
            if note is not None:
                notes.append(note)

    ruled = RuledDraft(
        body=body,
        kind=draft.kind,
        send_at=send_at,
        held=held,
        original_body=draft.body,
        original_send_at=draft.send_at,
        tag_added=tag_added,
        footer_added=footer_added,
        links=tuple(links),
        numbers=tuple(numbers),
        notes=tuple(notes),
    )
    return RulesPreview(ruled=ruled, problems=tuple(problems))


def _check_text(
    body: str, wap_url: str, rules: CarrierRules, problems: list[CarrierRuleError]
) -> tuple[list[FoundLink], list[FoundNumber]]:
    try:
        links = check_links(
            body,
            registered=rules.registered_links,
            short_hosts=rules.short_link_hosts,
            extra=[wap_url] if wap_url else [],
        )
    except UnregisteredLinkError as exc:
        problems.append(exc)
        links = find_links(body)
    try:
        numbers = check_numbers(body, registered=rules.registered_numbers)
    except UnregisteredNumberError as exc:
        problems.append(exc)
        numbers = find_phone_numbers(body)
    return links, numbers


def _quiet_hours(
    draft: Draft, rules: CarrierRules
) -> tuple[datetime | None, bool, RuleNote | None]:
    """The send time after the quiet hours: (send_at, held, note); raises QuietHoursError."""
    send_at, note = hold_for_quiet_hours(
        draft.kind,
        send_at=draft.send_at,
        expires_at=draft.expires_at,
        now=draft.now,
        rules=rules,
    )
    return send_at, note is not None, note


def hold_for_quiet_hours(
    kind: str,
    *,
    send_at: datetime | None,
    expires_at: datetime | None,
    now: datetime,
    rules: CarrierRules | None = None,
) -> tuple[datetime | None, RuleNote | None]:
    """When a send of ``kind`` goes out under the quiet hours: ``(send_at, note)``.

    Marketing only. A send at ``now`` (``send_at`` None) or at a ``send_at``
    inside the window gets the window's end and a note saying so (held, or
    moved); outside the window, or for transactional SMS, ``send_at`` is
    returned as it is with no note. Raises :class:`QuietHoursError` for a
    ``send_at`` inside the window under ``QUIET_HOURS_SCHEDULED="refuse"``, or
    when the window's end comes after ``expires_at``. Also used when a draft
    is queued, since the time it is sent decides, not the time it was written.
    """
    rules = rules if rules is not None else CarrierRules.from_settings()
    if kind != MARKETING or not rules.quiet_hours:
        return send_at, None
    window = describe_ranges(rules.quiet_hours)
    moment = send_at if send_at is not None and send_at > now else now
    end = window_end(moment, rules.quiet_hours)
    if end is None:
        return send_at, None
    scheduled = send_at is not None and send_at > now
    if scheduled and rules.quiet_hours_scheduled == REFUSE:
        raise QuietHoursError(moment, window=window)
    if expires_at is not None and end >= expires_at:
        raise QuietHoursError(moment, window=window, expires_at=expires_at)
    code = RuleNote.MOVED if scheduled else RuleNote.HELD
    return end, RuleNote(code, {"window": window, "send_at": end})


def shape_text(body: str, kind: str, rules: CarrierRules | None = None) -> str:
    """``body`` with the sender tag and opt-out line the rules add for ``kind`` (no refusals).

    For comparing a text as a caller gave it with the text that was stored.
    """
    rules = rules if rules is not None else CarrierRules.from_settings()
    if kind in rules.sender_tag_kinds and rules.sender_tag_mode == "prefix":
        body = apply_sender_tag(body, tag=rules.sender_tag, mode="prefix").body
    if kind == MARKETING:
        body = apply_opt_out_footer(body, footer=rules.opt_out_footer).body
    return body


def check_budget(kind: str, points: int, *, now: datetime) -> list[BudgetUse]:
    """``POINTS_BUDGET`` for a send of ``points``: call it inside the store transaction.

    See :func:`.budget.check_points_budget`; raises :class:`PointsBudgetError`.
    """
    # Imported here: the budget reads the models, the other rules need no app registry.
    from django_smsgo.conf import smsgo_settings
    from django_smsgo.services.carrier_rules.budget import check_points_budget

    return check_points_budget(
        kind,
        points,
        now=now,
        budget=smsgo_settings.POINTS_BUDGET,
        warning_ratio=float(smsgo_settings.POINTS_BUDGET_WARNING),
    )

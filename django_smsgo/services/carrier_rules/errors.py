"""Refusals of the carrier rules: one class per rule, each naming the value and the setting.

Every error is a :class:`~django_smsgo.exceptions.SmsgoValidationError`, so
callers that already turn validation errors into a form error or an API 400
need nothing new. ``rule`` is a stable code (``"sender_tag"``, ``"links"``…)
that an API answer or a test can rely on; ``setting`` names the ``SMSGO``
setting that made the refusal; ``str(error)`` is worded in the language active
when it is read (the admin's, the API caller's), not when it was raised.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

from django_smsgo.exceptions import SmsgoValidationError

TAIPEI = ZoneInfo("Asia/Taipei")


class CarrierRuleError(SmsgoValidationError):
    """A text or schedule breaks one of the project's carrier or marketing rules.

    ``rule`` is the rule's code, ``setting`` the ``SMSGO`` setting behind it,
    ``value`` the offending value (the link, the number, the time…).
    """

    rule_code = "carrier_rule"
    rule_words = "a carrier or marketing rule"
    setting = ""

    def __init__(self, value: object, **params: Any) -> None:
        self.params = params
        # ``rule`` keeps the English words of the base class (the API reads
        # them to name the request field); ``rule_code`` is the stable code.
        super().__init__(value, f"{self.rule_code}: {self.rule_words}")

    def describe(self) -> str:
        """The refusal in words, in the active language."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()

    def as_dict(self) -> dict[str, Any]:
        """The refusal as data (an API answer): rule, setting, value and the text."""
        return {
            "rule": self.rule_code,
            "setting": self.setting,
            "value": _plain(self.value),
            "detail": self.describe(),
        }


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class SenderTagMissingError(CarrierRuleError):
    """``SENDER_TAG_MODE="require"`` and the text does not carry ``SENDER_TAG``."""

    rule_code = "sender_tag"
    rule_words = "the text must name the sender (SENDER_TAG)"
    setting = "SENDER_TAG"

    def __init__(self, body: str, *, tag: str) -> None:
        self.tag = tag
        super().__init__(body, tag=tag)

    def describe(self) -> str:
        return gettext(
            "The text does not name the sender %(tag)s (SMSGO['SENDER_TAG'], required): "
            "since 2025-11-01 Taiwan's carriers block business SMS that do not name the sender."
        ) % {"tag": self.tag}


class UnregisteredLinkError(CarrierRuleError):
    """A link in the text is not on ``REGISTERED_LINKS`` (a short link, or any other)."""

    rule_code = "links"
    rule_words = "links in the text must be registered (REGISTERED_LINKS)"
    setting = "REGISTERED_LINKS"

    def __init__(self, link: str, *, written: str, short: bool) -> None:
        self.link = link
        self.written = written
        self.short = short
        super().__init__(link, written=written, short=short)

    def describe(self) -> str:
        written = (
            ""
            if self.written == self.link
            else gettext(" (written %(written)s)") % {"written": self.written}
        )
        if self.short:
            return gettext(
                "The link %(link)s%(written)s goes through a short-link service and is not "
                "registered (SMSGO['REGISTERED_LINKS']): carriers drop business SMS with "
                "unregistered links."
            ) % {"link": self.link, "written": written}
        return gettext(
            "The link %(link)s%(written)s is not registered (SMSGO['REGISTERED_LINKS']): "
            "carriers drop business SMS with unregistered links."
        ) % {"link": self.link, "written": written}


class UnregisteredNumberError(CarrierRuleError):
    """A phone number in the text is not on ``REGISTERED_NUMBERS``."""

    rule_code = "numbers"
    rule_words = "phone numbers in the text must be registered (REGISTERED_NUMBERS)"
    setting = "REGISTERED_NUMBERS"

    def __init__(self, number: str, *, written: str) -> None:
        self.number = number
        self.written = written
        super().__init__(number, written=written)

    def describe(self) -> str:
        return gettext(
            "The phone number %(written)s in the text is not registered "
            "(SMSGO['REGISTERED_NUMBERS']): carriers drop business SMS with unregistered "
            "numbers."
        ) % {"written": self.written}


class QuietHoursError(CarrierRuleError):
    """A marketing SMS scheduled inside the quiet hours, with ``QUIET_HOURS_SCHEDULED="refuse"``.

    Also raised when holding a send to the window's end would pass its
    ``expires_at``. The rule names ``send_at``, so the API reports it on that field.
    """

    rule_code = "quiet_hours"
    rule_words = "send_at: no marketing SMS is delivered in the quiet hours (QUIET_HOURS)"
    setting = "QUIET_HOURS"

    def __init__(self, send_at: datetime, *, window: str, expires_at: datetime | None = None):
        self.send_at = send_at
        self.window = window
        self.expires_at = expires_at
        super().__init__(send_at, window=window)

    def describe(self) -> str:
        when = self.send_at.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M")
        if self.expires_at is not None:
            return gettext(
                "A marketing SMS is not delivered during the quiet hours %(window)s "
                "(Asia/Taipei, SMSGO['QUIET_HOURS']), and holding it from %(when)s to their "
                "end would pass its expiry %(expires)s."
            ) % {
                "window": self.window,
                "when": when,
                "expires": self.expires_at.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M"),
            }
        return gettext(
            "The send time %(when)s (Asia/Taipei) falls in the marketing quiet hours "
            "%(window)s (SMSGO['QUIET_HOURS']); choose a time outside them."
        ) % {"when": when, "window": self.window}


class PointsBudgetError(CarrierRuleError):
    """A send would pass a ``POINTS_BUDGET`` cap; nothing was stored."""

    rule_code = "points_budget"
    rule_words = "the points budget per kind, day and month (POINTS_BUDGET)"
    setting = "POINTS_BUDGET"

    def __init__(self, needed: int, *, kind: str, period: str, cap: int, used: int) -> None:
        self.needed = needed
        self.kind = kind
        self.period = period
        self.cap = cap
        self.used = used
        super().__init__(needed, kind=kind, period=period, cap=cap, used=used)

    def describe(self) -> str:
        period = gettext("today") if self.period == "day" else gettext("this month")
        return gettext(
            "This send needs about %(needed)s points, but %(used)s of the %(cap)s points "
            "allowed for %(kind)s SMS %(period)s (SMSGO['POINTS_BUDGET'], Asia/Taipei) are "
            "used: %(left)s are left. Nothing was stored or sent."
        ) % {
            "needed": self.needed,
            "used": self.used,
            "cap": self.cap,
            "kind": _kind_word(self.kind),
            "period": period,
            "left": max(0, self.cap - self.used),
        }


def _kind_word(kind: str) -> str:
    return gettext("marketing") if kind == "marketing" else gettext("transactional")

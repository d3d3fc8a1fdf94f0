"""Every error django-smsgo raises, in three families that say what to do next.

Apart from them, :class:`SmsgoConfigurationError` says the project is set up
wrongly (no credentials, a bad URL, no way to dispatch): a subclass of
Django's ``ImproperlyConfigured``, deliberately not of :class:`SmsgoError`, so
``except SmsgoError`` around a send never swallows a configuration mistake.

* :class:`SmsgoValidationError` — the request breaks a rule; nothing was sent.
* :class:`GatewayError` — the gateway answered with a negative ``statuscode``
  (table 1 of the vendor document, ``-1`` … ``-10``); nothing was sent.
* :class:`TransportError` — no usable answer. ``may_have_reached_gateway``
  tells apart "surely not sent" (:class:`GatewayUnreachableError`) from
  "perhaps sent" (:class:`UncertainOutcomeError`): the gateway has no
  idempotency key, so a perhaps-sent request must not be repeated blindly.

No message, ``str()`` or ``repr()`` of these exceptions ever holds the account
password or a request URL (the password travels in the query string).
This module needs no Django, so plain scripts can use the client; where Django
is installed, configuration errors are its ``ImproperlyConfigured``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import ClassVar

try:
    from django.core.exceptions import ImproperlyConfigured as _ConfigurationErrorBase
except ImportError:  # the client used without Django

    class _ConfigurationErrorBase(Exception):  # type: ignore[no-redef]
        """Stands in for Django's ``ImproperlyConfigured`` where Django is not installed."""


class SmsgoError(Exception):
    """Base class of every error raised by django-smsgo when a send or a query fails."""


class SmsgoConfigurationError(_ConfigurationErrorBase):
    """The client or the app is configured wrongly (missing credentials, bad URL…).

    An ``ImproperlyConfigured``: fix the settings; sending again will not help.
    """


# --------------------------------------------------------------------------- validation


class SmsgoValidationError(SmsgoError, ValueError):
    """A value breaks a rule of the gateway; the request was not sent.

    ``value`` is the offending value, ``rule`` the rule it breaks, in words.
    """

    def __init__(self, value: object, rule: str, message: str | None = None) -> None:
        self.value = value
        self.rule = rule
        super().__init__(message or f"{shown(value)}: {rule}")


def shown(value: object) -> str:
    """``value`` as a person reads it in an error: text quoted, a moment in ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value)  # quoted, and control characters visible as \x07
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value)
    return str(value)


class InvalidNumberError(SmsgoValidationError):
    """One or more phone numbers are not valid receivers.

    ``invalid`` lists every bad number of the request with its reason, so a
    caller can show them all at once.
    """

    def __init__(self, invalid: Sequence[tuple[object, str]]) -> None:
        self.invalid: list[tuple[object, str]] = list(invalid)
        rule = "a receiver is 09 + 8 digits (Taiwan mobile) or +<country code><mobile number>"
        if len(self.invalid) == 1:
            value, reason = self.invalid[0]
            message = f"Invalid phone number {value!r}: {reason}."
            super().__init__(value, rule, message)
        else:
            shown = "; ".join(f"{value!r}: {reason}" for value, reason in self.invalid)
            message = f"{len(self.invalid)} invalid phone numbers: {shown}."
            super().__init__([value for value, _ in self.invalid], rule, message)


class TooManyNumbersError(SmsgoValidationError):
    """More receivers than one gateway request takes (50); split them with ``chunked``."""


class InvalidEncodingError(SmsgoValidationError):
    """The encoding is not one the gateway knows."""


class UnencodableTextError(SmsgoValidationError):
    """The text holds characters the chosen encoding cannot carry (e.g. Chinese in ASCII)."""


class ControlCharacterError(UnencodableTextError):
    """The text holds a control character (NUL, BEL, TAB, ESC, DEL, C1…).

    Only line breaks (``\\n``, ``\\r``) are allowed. ``char`` is the first
    control character, ``position`` its index in the text (from 0).
    """

    def __init__(self, text: str, char: str, position: int, count: int = 1) -> None:
        self.char = char
        self.position = position
        shown = f"U+{ord(char):04X}"
        name = _CONTROL_NAMES.get(ord(char))
        shown += f" ({name})" if name else " (a C1 control character)"
        more = f"; {count} control characters in all" if count > 1 else ""
        rule = "the text may hold line breaks (\\n, \\r) but no other control character"
        super().__init__(
            text,
            rule,
            f"The text holds the control character {shown} at position {position}{more}. "
            "Only line breaks (\\n, \\r) are allowed; remove it before sending.",
        )


# The C0 abbreviations of ISO 6429, for messages; C1 ones are rarely known by name.
# fmt: off
_CONTROL_NAMES = dict(enumerate((
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB",
    "ESC", "FS", "GS", "RS", "US",
)))
# fmt: on
_CONTROL_NAMES[0x7F] = "DEL"


class EmptyBodyError(SmsgoValidationError):
    """The text is empty (the gateway would answer -1)."""


class MessageTooLongError(SmsgoValidationError):
    """The text is longer than the encoding allows; the gateway would cut it silently."""


class ScheduleError(SmsgoValidationError):
    """``dlvtime`` is naive, not a datetime, or in the past."""


class OptionNotAllowedError(SmsgoValidationError):
    """An option is missing, malformed or not allowed with this encoding or these numbers."""


class InvalidMsgidError(SmsgoValidationError):
    """A msgid is not the gateway's numeric message id."""


# --------------------------------------------------------------------------- gateway answers


class GatewayError(SmsgoError):
    """The gateway refused the request with a negative ``statuscode`` (table 1).

    ``code`` is the status code, ``gateway_text`` the gateway's ``statusstr``,
    ``explanation`` what it means in words, ``permanent`` whether sending the
    same request again can ever succeed, ``api_url`` the host that answered.
    Use :meth:`from_code` to get the class of a code.
    """

    code: int = 0
    explanation: str = "The gateway refused the request with a status code the document lists not."
    permanent: bool = True
    _by_code: ClassVar[dict[int, type[GatewayError]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            GatewayError._by_code[cls.code] = cls

    def __init__(
        self, gateway_text: str = "", *, code: int | None = None, api_url: str = ""
    ) -> None:
        if code is not None:
            self.code = code
        self.gateway_text = gateway_text
        self.api_url = api_url
        text = f" ({gateway_text})" if gateway_text else ""
        super().__init__(f"smsgo answered {self.code}{text}: {self.explanation}")

    @classmethod
    def from_code(cls, code: int, gateway_text: str = "", *, api_url: str = "") -> GatewayError:
        """The exception for ``code``: its own class for -1 … -10, else a plain ``GatewayError``."""
        known = cls._by_code.get(code)
        if known is not None:
            return known(gateway_text, api_url=api_url)
        return GatewayError(gateway_text, code=code, api_url=api_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, gateway_text={self.gateway_text!r})"


class CgiStringError(GatewayError):
    code = -1
    explanation = (
        "The request was malformed or the gateway failed for an unknown reason; "
        "an empty text causes exactly this."
    )


class AuthorizationError(GatewayError):
    code = -2
    explanation = (
        "The account name or password is wrong, or this server's IP address is not "
        "allowed for the account (see the IP lock in the smsgo member area)."
    )


class PriorityError(GatewayError):
    code = -3
    explanation = "The account asked for a higher priority than it is allowed."


class SenderNumberError(GatewayError):
    code = -4
    explanation = "The sender (A) number breaks the gateway's rules."


class ReceiverNumberError(GatewayError):
    code = -5
    explanation = "A receiver (B) number breaks the gateway's rules, or no number was given."


class ClosedUserError(GatewayError):
    code = -6
    explanation = "The account is closed."


class GatewayEncodingError(GatewayError):
    code = -7
    explanation = "The gateway does not accept the encoding, or an option is not allowed with it."


class InsufficientPointsError(GatewayError):
    code = -8
    explanation = "The account has not enough points for this send; top it up."


class TooManyNumbersGatewayError(GatewayError):
    code = -9
    explanation = "The request carried an invalid number of receivers (at most 50)."


class SendFailedError(GatewayError):
    code = -10
    explanation = "The gateway could not take the request this time; it was not sent."
    permanent = False


# --------------------------------------------------------------------------- transport


class TransportError(SmsgoError):
    """No usable answer came back from the gateway.

    ``may_have_reached_gateway`` is False only when the request surely never
    left (connect failure); ``api_url`` is the host that was tried.
    """

    may_have_reached_gateway: bool = True
    reason: str = "No usable answer came back from the gateway."

    def __init__(self, api_url: str, detail: str = "") -> None:
        self.api_url = api_url
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{self.reason} Host {api_url}{extra}.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_url={self.api_url!r}, detail={self.detail!r})"


class GatewayUnreachableError(TransportError):
    """The connection could not be made (refused, DNS failure, connect timeout, TLS).

    The request never left: it is safe to send it again.
    """

    may_have_reached_gateway = False
    reason = "The gateway could not be reached; the request was not sent."


class UncertainOutcomeError(TransportError):
    """The request left but no usable answer came back: it may have been sent.

    Do not send it again blindly (the gateway has no idempotency key); poll
    the status or ask a person.
    """

    may_have_reached_gateway = True
    reason = "The request reached the gateway, or may have, but no usable answer came back."


class GatewayTimeoutError(UncertainOutcomeError):
    """The gateway took longer than the read timeout to answer."""

    reason = "The gateway did not answer within the read timeout; the request may have been sent."


class AnswerLostError(UncertainOutcomeError):
    """The connection broke after the request was written (reset, closed, cut answer)."""

    reason = "The connection broke before the whole answer came; the request may have been sent."


class GatewayHTTPError(UncertainOutcomeError):
    """The gateway answered with an HTTP status other than 200; ``status`` holds it."""

    def __init__(self, api_url: str, status: int, detail: str = "") -> None:
        self.status = status
        self.reason = (
            f"The gateway answered HTTP {status} instead of a result; "
            "the request may have been sent."
        )
        super().__init__(api_url, detail)


class UnparsableAnswerError(UncertainOutcomeError):
    """The gateway answered something that is not one of its answer formats.

    ``excerpt`` holds the start of the answer with any credentials removed.
    """

    reason = "The gateway's answer could not be read; the request may have been sent."

    def __init__(self, api_url: str, detail: str = "", excerpt: str = "") -> None:
        self.excerpt = excerpt
        super().__init__(api_url, detail)


# --------------------------------------------------------------------------- hooks


class SmsgoCancelSend(SmsgoError):
    """Raised by a ``pre_send`` receiver to cancel a send: nothing is stored or sent.

    ``reason`` says why, in words, for the log and for ``post_send``'s
    receivers. ``post_send`` is sent with status ``"cancelled"``; then the
    exception reaches the caller of ``send_sms()``, which must know that
    nothing went out (anymail's ``AnymailCancelSend`` returns quietly instead,
    because an e-mail send returns a count; ``send_sms()`` returns a message).
    """

    def __init__(self, reason: str = "cancelled by a pre_send receiver") -> None:
        self.reason = reason
        super().__init__(reason)

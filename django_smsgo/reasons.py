"""Why a message, batch or recipient is where it is: a code and its parameters, worded per reader.

The services store a reason as data — ``reason_code`` and ``reason_params`` on
``Message``, ``Batch`` and ``Recipient`` — never as a sentence. The sentence is
written when someone reads it, in the language active at that moment (the
admin's, the API caller's), by :func:`describe`. A reason stored in English
could never be shown in Chinese afterwards; a code can, and a new language
needs only its catalogue.

Parameters are plain JSON values: gateway codes and texts, states, counts,
seconds, ISO 8601 times. A *cause* (why a request was not sent, or may have
been) is itself a small mapping with a ``kind`` of :class:`Cause`, so the same
cause reads the same wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _


class Reason(StrEnum):
    """What a stored ``reason_code`` says happened."""

    SUPPRESSED = "suppressed"  # the number is on the opt-out list
    CANCELLED = "cancelled"  # cancelled here, before any request
    CANCELLED_AT_GATEWAY = "cancelled_at_gateway"  # the gateway cancelled a scheduled send
    FINAL_STATE = "final_state"  # {state}: table 2's final state other than DELIVRD
    REFUSED = "refused"  # {code, text}: the gateway refused the request
    NOT_SENT = "not_sent"  # {cause}: surely not sent, for good
    RELEASED = "released"  # {cause}: surely not sent, to be tried again
    PERHAPS_SENT = "perhaps_sent"  # {cause}: the request may have reached the gateway
    EXPIRED = "expired"  # {when}: expires_at passed before it could be sent
    NOT_ENOUGH_POINTS = "not_enough_points"  # {needed, balance}
    NO_FINAL_STATUS = "no_final_status"  # {seconds}: POLL_MAX_AGE passed without a final state
    EVERY_RECIPIENT_FAILED = "every_recipient_failed"
    MISCONFIGURED = "misconfigured"  # {setting, detail}: the project's settings prevent sending
    TEXT = "text"  # {text}: a reason stored in words before reasons were codes
    # {window, send_at, moved}: a marketing send held (or, when it was scheduled
    # inside the window, moved) to the end of the quiet hours
    QUIET_HOURS = "quiet_hours"


class Cause(StrEnum):
    """Why a request did not go out, or may have: the ``cause`` of a reason."""

    UNREACHABLE = "unreachable"  # no connection could be made
    TIMEOUT = "timeout"  # no answer within the read timeout
    LOST = "lost"  # the connection broke after the request was written
    HTTP = "http"  # {status}: an HTTP status other than 200
    UNPARSABLE = "unparsable"  # an answer that is none of the gateway's formats
    GATEWAY = "gateway"  # {code, text}: the gateway's own answer (e.g. -10)
    INVALID = "invalid"  # {detail}: our own checks refused it before any request
    LEASE_EXPIRED = "lease_expired"  # the worker stopped between claim and record
    UNEXPECTED = "unexpected"  # {error}: an unexpected error (its class name)


#: Table 2's final states other than DELIVRD, in words.
FINAL_STATES: dict[str, Promise] = {
    "EXPIRED": _("the validity period expired before delivery"),
    "DELETED": _("deleted before delivery"),
    "UNDELIV": _("undeliverable"),
    "ABSENT": _("the number does not exist"),
    "SPAM": _("the content was judged to be spam"),
    "BLOCK": _("the receiver rejects SMS"),
    "ACCEPTD": _("read on the receiver's behalf by customer service; never reached the handset"),
    "UNKNOWN": _("the message is in an invalid state"),
    "REJECTD": _("rejected"),
    "SYNTAXE": _("syntax error"),
}

#: Table 1's codes, in words.
GATEWAY_CODES: dict[int, Promise] = {
    -1: _("the request was malformed or the gateway failed for an unknown reason"),
    -2: _("the account name, password or this server's IP address was refused"),
    -3: _("the account asked for a higher priority than it is allowed"),
    -4: _("the sender number breaks the gateway's rules"),
    -5: _("a receiver number breaks the gateway's rules"),
    -6: _("the account is closed"),
    -7: _("the gateway does not accept the encoding or an option with it"),
    -8: _("the account has not enough points"),
    -9: _("the request carried an invalid number of receivers"),
    -10: _("the gateway could not take the request this time"),
}


def describe(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The reason ``code`` with ``params`` as a sentence in the active language ('' for none)."""
    params = params or {}
    if not code:
        return ""
    if code == Reason.SUPPRESSED:
        return gettext("suppressed: the number is on the opt-out list")
    if code == Reason.CANCELLED:
        return gettext("cancelled before it was sent")
    if code == Reason.CANCELLED_AT_GATEWAY:
        return gettext("cancelled at the gateway before it was due")
    if code == Reason.FINAL_STATE:
        state = str(params.get("state", ""))
        words = FINAL_STATES.get(state)
        return str(words) if words is not None else state
    if code == Reason.REFUSED:
        return _gateway_answer(params)
    if code == Reason.NOT_SENT:
        return gettext("not sent: %(cause)s") % {"cause": describe_cause(params.get("cause"))}
    if code == Reason.RELEASED:
        return gettext("released for a retry: %(cause)s") % {
            "cause": describe_cause(params.get("cause"))
        }
    if code == Reason.PERHAPS_SENT:
        return gettext("perhaps sent: %(cause)s") % {"cause": describe_cause(params.get("cause"))}
    if code == Reason.EXPIRED:
        return gettext("expired: not sent before %(when)s") % {"when": _moment(params.get("when"))}
    if code == Reason.NOT_ENOUGH_POINTS:
        return gettext(
            "not enough points: this message needs about %(needed)s, the balance is "
            "%(balance)s; nothing was sent"
        ) % {"needed": params.get("needed", "?"), "balance": params.get("balance", "?")}
    if code == Reason.NO_FINAL_STATUS:
        return gettext("no final status within %(duration)s") % {
            "duration": duration(int(params.get("seconds", 0)))
        }
    if code == Reason.EVERY_RECIPIENT_FAILED:
        return gettext("every recipient failed")
    if code == Reason.MISCONFIGURED:
        return gettext("not sent: the project's settings prevent sending (%(detail)s)") % {
            "detail": params.get("detail", "")
        }
    if code == Reason.QUIET_HOURS:
        return _quiet_hours(params)
    if code == Reason.TEXT:
        return str(params.get("text", ""))
    return code


def _quiet_hours(params: Mapping[str, Any]) -> str:
    words = {"window": params.get("window", ""), "when": _taipei(params.get("send_at"))}
    if params.get("moved"):
        return (
            gettext(
                "Moved: the chosen time falls in the quiet hours %(window)s "
                "(Asia/Taipei); it goes out at %(when)s instead."
            )
            % words
        )
    return (
        gettext(
            "Held: marketing SMS are not delivered during the quiet hours %(window)s "
            "(Asia/Taipei); it goes out at %(when)s, through the gateway's schedule, and "
            "can be cancelled until then."
        )
        % words
    )


def _taipei(value: Any) -> str:
    """An ISO 8601 time (or a datetime) as Taipei local time, ``YYYY-MM-DD HH:MM``."""
    from zoneinfo import ZoneInfo

    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value or "")
    return moment.astimezone(ZoneInfo("Asia/Taipei")).strftime("%Y-%m-%d %H:%M")


def describe_cause(cause: Any) -> str:
    """A :class:`Cause` mapping (``{"kind": ..., ...}``) in words."""
    if not isinstance(cause, Mapping):
        return gettext("unknown cause")
    code = cause.get("kind")
    if code == Cause.UNREACHABLE:
        return gettext("the gateway could not be reached")
    if code == Cause.TIMEOUT:
        return gettext("the gateway did not answer within the read timeout")
    if code == Cause.LOST:
        return gettext("the connection broke after the request was sent")
    if code == Cause.HTTP:
        return gettext("the gateway answered HTTP %(status)s") % {"status": cause.get("status")}
    if code == Cause.UNPARSABLE:
        return gettext("the gateway's answer could not be read")
    if code == Cause.GATEWAY:
        return _gateway_answer(cause)
    if code == Cause.INVALID:
        return gettext("refused by the checks before sending (%(detail)s)") % {
            "detail": cause.get("detail", "")
        }
    if code == Cause.LEASE_EXPIRED:
        return gettext("the worker sending this batch stopped before recording the answer")
    if code == Cause.UNEXPECTED:
        return gettext("unexpected error: %(error)s") % {"error": cause.get("error", "")}
    return str(code)


def _gateway_answer(params: Mapping[str, Any]) -> str:
    try:
        code = int(params.get("code", 0))
    except (TypeError, ValueError):
        code = 0
    meaning = GATEWAY_CODES.get(code)
    text = str(params.get("text") or "")
    if meaning is None:
        return gettext("gateway code %(code)s (%(text)s)") % {"code": code, "text": text}
    return gettext("gateway code %(code)s (%(text)s): %(meaning)s") % {
        "code": code,
        "text": text,
        "meaning": meaning,
    }


def _moment(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return str(value or "")
    return date_format(timezone.localtime(moment), "Y-m-d H:i:s")


def duration(seconds: int) -> str:
    """``seconds`` as whole days, hours or seconds, whichever divides it."""
    if seconds and seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if seconds and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}


def cause(kind: Cause, **params: Any) -> dict[str, Any]:
    """A cause mapping for ``reason_params``: ``cause(Cause.HTTP, status=500)``."""
    return {"kind": str(kind), **params}


def cause_of(error: BaseException) -> dict[str, Any]:
    """The cause mapping for an error met while sending (transport, gateway or validation)."""
    from django_smsgo.exceptions import (
        GatewayError,
        GatewayHTTPError,
        GatewayTimeoutError,
        GatewayUnreachableError,
        SmsgoValidationError,
        UnparsableAnswerError,
    )

    if isinstance(error, GatewayUnreachableError):
        return cause(Cause.UNREACHABLE)
    if isinstance(error, GatewayTimeoutError):
        return cause(Cause.TIMEOUT)
    if isinstance(error, GatewayHTTPError):
        return cause(Cause.HTTP, status=error.status)
    if isinstance(error, UnparsableAnswerError):
        return cause(Cause.UNPARSABLE)
    if isinstance(error, GatewayError):
        return cause(Cause.GATEWAY, code=error.code, text=error.gateway_text)
    if isinstance(error, SmsgoValidationError):
        return cause(Cause.INVALID, detail=str(error))
    from django_smsgo.exceptions import TransportError

    if isinstance(error, TransportError):
        return cause(Cause.LOST)
    return cause(Cause.UNEXPECTED, error=type(error).__name__)

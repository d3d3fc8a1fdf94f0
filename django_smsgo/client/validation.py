"""Checks a send request against every rule of the gateway before anything is sent.

:func:`validate_send` turns the caller's values into a :class:`PreparedSend`
(normalised numbers, the encoding to use, ``dlvtime`` as the gateway wants it)
or raises one :class:`~django_smsgo.exceptions.SmsgoValidationError` naming the
value and the rule. Nothing here touches the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

from django_smsgo.client.digits import RULE as DIGITS_RULE
from django_smsgo.client.digits import ForeignDigitError, ascii_digits
from django_smsgo.client.encodings import Encoding
from django_smsgo.client.numbers import (
    NumberInput,
    check_request_size,
    is_international,
    normalize_numbers,
)
from django_smsgo.client.text import (
    LONG_LIMIT,
    check_control_characters,
    count_characters,
    estimate_points,
    fit_encoding,
    is_control,
)
from django_smsgo.exceptions import (
    InvalidMsgidError,
    MessageTooLongError,
    OptionNotAllowedError,
    ScheduleError,
)

#: The gateway's clock. Taiwan has kept UTC+8 without daylight saving time
#: since 1979, so a fixed offset is exact for any schedule we can send.
TAIPEI = timezone(timedelta(hours=8), "Asia/Taipei")
DLVTIME_FORMAT = "%Y/%m/%d %H:%M:%S"
REPLYURL_MAX_LENGTH = 300
REPLYDAYS_MAX = 30
_ASCII_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class PreparedSend:
    """A send request that passed every check, in the gateway's terms.

    ``points`` is the estimated cost; ``params`` gives the query parameters
    without the credentials.
    """

    numbers: tuple[str, ...]
    body: str
    encoding: Encoding
    dlvtime: datetime | None = None
    wapurl: str | None = None
    replyurl: str | None = None
    replydays: int | None = None
    response: str | None = None
    points: int = 0

    @property
    def dlvtime_text(self) -> str | None:
        """``dlvtime`` as the gateway reads it: Taipei local time ``YYYY/MM/DD HH:MM:SS``."""
        return format_dlvtime(self.dlvtime) if self.dlvtime is not None else None

    def params(self) -> dict[str, str]:
        """The send parameters (``smbody``, ``dstaddr``…) in the order they are sent."""
        params = {
            "dstaddr": ",".join(self.numbers),
            "encoding": self.encoding.value,
            "smbody": self.body,
        }
        optional = {
            "dlvtime": self.dlvtime_text,
            "wapurl": self.wapurl,
            "replyurl": self.replyurl,
            "replydays": str(self.replydays) if self.replyurl and self.replydays else None,
            "response": self.response,
        }
        params.update({key: value for key, value in optional.items() if value})
        return params


def format_dlvtime(moment: datetime) -> str:
    """An aware datetime as Taipei local time ``YYYY/MM/DD HH:MM:SS`` (seconds cut off below).

    Raises :class:`ScheduleError` for a naive datetime: its time zone would be a guess.
    """
    if not isinstance(moment, datetime):
        raise ScheduleError(moment, "dlvtime must be a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ScheduleError(
            moment,
            "dlvtime must be an aware datetime (a naive one has no time zone)",
            f"dlvtime {moment.isoformat()} is naive: give it a time zone, e.g. "
            "django.utils.timezone.make_aware() or datetime(..., tzinfo=ZoneInfo('Asia/Taipei')).",
        )
    try:
        return moment.astimezone(TAIPEI).strftime(DLVTIME_FORMAT)
    except OverflowError:
        raise ScheduleError(
            moment,
            "dlvtime must be a time the gateway can write (up to the year 9999, Taiwan time)",
        ) from None


_MSGID_RULE = f"a msgid is the gateway's numeric message id: {DIGITS_RULE}"


def check_msgid(msgid: object) -> str:
    """``msgid`` as ASCII text: the gateway's message ids are whole numbers.

    Full-width digits are read as ASCII ones; any other kind of digit is refused.
    """
    text = (
        str(msgid).strip() if isinstance(msgid, str | int) and not isinstance(msgid, bool) else ""
    )
    try:
        text = ascii_digits(text)
    except ForeignDigitError as error:
        raise InvalidMsgidError(msgid, _MSGID_RULE, f"Invalid msgid {msgid!r}: {error}.") from None
    if not _ASCII_DIGITS.fullmatch(text):
        raise InvalidMsgidError(msgid, _MSGID_RULE)
    return text


def _check_url(name: str, value: object, max_length: int | None = None) -> str:
    """``value`` when it is an absolute http(s) URL with a host, without spaces or controls."""
    # Callback URLs carry a signature in their path: the message names the
    # option and the rule, never the URL itself.
    rule = ""
    if not isinstance(value, str):
        rule = f"{name} must be a URL given as text"
    elif any(char.isspace() or is_control(char) for char in value):
        # urlsplit() silently drops tabs and new lines, so check before it.
        rule = f"{name} must hold no spaces or control characters"
    elif not _is_web_url(value):
        rule = f"{name} must be an absolute http:// or https:// URL with a host name"
    elif max_length is not None and len(value) > max_length:
        rule = f"{name} has {len(value)} characters; the gateway takes at most {max_length}"
    if rule:
        raise OptionNotAllowedError(value, rule, f"Invalid {name}: {rule}.")
    return str(value)


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(hostname)


def _check_schedule(dlvtime: datetime, now: datetime | None) -> datetime:
    format_dlvtime(dlvtime)  # naive or not a datetime: refuse
    current = now or datetime.now(UTC)
    if dlvtime < current:
        raise ScheduleError(
            dlvtime,
            "dlvtime must not be in the past",
            f"dlvtime {dlvtime.isoformat()} is in the past (now {current.isoformat()}); "
            "to send at once, leave dlvtime out.",
        )
    return dlvtime


def _check_options(
    encoding: Encoding,
    body: str,
    numbers: tuple[str, ...],
    wapurl: str | None,
    replyurl: str | None,
    replydays: int | None,
) -> None:
    if encoding is Encoding.PUSH:
        if not wapurl:
            raise OptionNotAllowedError(wapurl, "PUSH needs a wapurl (the link the push opens)")
        # The handset opens the link: only a web page, never javascript:, data:, file:…
        _check_url("wapurl", wapurl)
        if count_characters(body + wapurl) > LONG_LIMIT:
            raise MessageTooLongError(
                body, "a WAP push title and wapurl together hold at most 330 characters"
            )
    elif wapurl:
        raise OptionNotAllowedError(wapurl, f"wapurl is allowed only with PUSH, not {encoding}")
    if replyurl and not encoding.is_plain:
        rule = f"replyurl is allowed only with BIG5, ASCII or UCS2, not {encoding}"
        raise OptionNotAllowedError(replyurl, rule, f"Invalid replyurl: {rule}.")
    if replyurl and replydays is not None:
        if isinstance(replydays, bool) or not isinstance(replydays, int):
            raise OptionNotAllowedError(replydays, "replydays must be a whole number of days")
        if not 1 <= replydays <= REPLYDAYS_MAX:
            raise OptionNotAllowedError(replydays, "replydays must be from 1 to 30")
    international = [number for number in numbers if is_international(number)]
    if international and not encoding.is_plain:
        raise OptionNotAllowedError(
            international,
            f"international numbers ({', '.join(international)}) take only BIG5, ASCII "
            f"or UCS2, not {encoding}",
        )


def validate_send(
    numbers: NumberInput,
    body: str,
    *,
    encoding: Encoding | str | None = None,
    dlvtime: datetime | None = None,
    wapurl: str | None = None,
    replyurl: str | None = None,
    replydays: int | None = None,
    response: str | None = None,
    now: datetime | None = None,
) -> PreparedSend:
    """Every rule checked; the request as it will be sent, or one clear error.

    ``encoding=None`` picks the encoding from the text (the long variant when
    it does not fit one SMS). ``replydays`` only matters with ``replyurl`` and
    is not sent without it. ``now`` is the moment a schedule is compared with
    (default: the current time).
    """
    if not isinstance(body, str):
        raise OptionNotAllowedError(body, "the text must be a string")
    check_control_characters(body)
    normalised = normalize_numbers(numbers)
    check_request_size(normalised)
    chosen = fit_encoding(body, encoding)
    _check_options(chosen, body, normalised, wapurl, replyurl, replydays)
    if replyurl:
        _check_url("replyurl", replyurl, REPLYURL_MAX_LENGTH)
    if response:
        _check_url("response", response)
    scheduled = _check_schedule(dlvtime, now) if dlvtime is not None else None
    sent_replydays = replydays if replyurl else None
    return PreparedSend(
        numbers=normalised,
        body=body,
        encoding=chosen,
        dlvtime=scheduled,
        wapurl=wapurl or None,
        replyurl=replyurl or None,
        replydays=sent_replydays,
        response=response or None,
        points=estimate_points(
            body, normalised, chosen, wapurl=wapurl or "", with_reply=bool(replyurl)
        ),
    )

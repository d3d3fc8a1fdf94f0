"""Errors and hints in the reader's language: what the admin shows for a refused input.

The client and the validation raise exceptions that name the value and the
rule in English, for logs and for callers in code. Staff read the same refusal
as a sentence in the active language (``LANGUAGE_CODE`` or the browser's, see
``docs/admin.rst``), written here from the exception's class and data, never
from its ``repr``: a moment is a Taiwan time, a character its glyph and code
point.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_smsgo.client.encodings import Encoding
from django_smsgo.client.text import LONG_LIMIT, count_characters
from django_smsgo.exceptions import (
    ControlCharacterError,
    EmptyBodyError,
    InvalidNumberError,
    MessageTooLongError,
    ScheduleError,
    SmsgoValidationError,
    UnencodableTextError,
)

TAIPEI = ZoneInfo("Asia/Taipei")


#: The vendor's encodings in words; the code is shown beside them for whoever needs it.
ENCODING_WORDS: dict[str, Promise] = {
    "BIG5": _("Chinese, one SMS"),
    "ASCII": _("Latin letters, one SMS"),
    "UCS2": _("any script, one SMS"),
    "LBIG5": _("long SMS, Chinese"),
    "LASCI": _("long SMS, Latin letters"),
    "LUCS2": _("long SMS, any script"),
    "PBIG5": _("pop-up SMS, Chinese"),
    "PASCI": _("pop-up SMS, Latin letters"),
    "PUSH": _("WAP push with a link"),
}

#: Table 2's states (the delivery report's ``statusstr``) in a word or two.
STATUS_WORDS: dict[str, Promise] = {
    "DELIVRD": _("delivered"),
    "EXPIRED": _("expired"),
    "DELETED": _("deleted"),
    "UNDELIV": _("undeliverable"),
    "ABSENT": _("no such number"),
    "SPAM": _("judged as spam"),
    "BLOCK": _("receiver rejects SMS"),
    "ACCEPTD": _("read by customer service"),
    "UNKNOWN": _("invalid state"),
    "REJECTD": _("rejected"),
    "SYNTAXE": _("syntax error"),
}


#: Where a delivery report came from, as staff say it (the vendor calls the first "Phase Two").
SOURCE_WORDS: dict[str, Promise] = {
    "callback": _("sent to us by the gateway"),
    "poll": _("asked of the gateway"),
    "simulated": _("test backend"),
}


def source_words(source: str) -> str:
    """A delivery report's source in words ('' for an unknown one)."""
    words = SOURCE_WORDS.get(source)
    return str(words) if words is not None else ""


def encoding_words(code: str | None) -> str:
    """What the encoding ``code`` means, in the active language ('' for none or unknown)."""
    words = ENCODING_WORDS.get(code or "")
    return str(words) if words is not None else ""


def status_words(code: str | None) -> str:
    """The gateway's delivery state ``code`` in words ('' for none or unknown)."""
    words = STATUS_WORDS.get(code or "")
    return str(words) if words is not None else ""


def taipei_minute(moment: datetime) -> str:
    """``moment`` as staff read it: ``2026-12-01 09:00`` in Taiwan time."""
    return timezone.localtime(moment, TAIPEI).strftime("%Y-%m-%d %H:%M")


def number_reason(reason: str) -> str:
    """The client's reason why a number is invalid, in the active language.

    The client marks each of its reasons for translation (``gettext_noop``)
    without needing Django; the sentence is looked up here, when it is read.
    """
    return gettext(reason)


def explain(error: Exception) -> str:
    """``error`` as one sentence in the active language, without a Python repr."""
    if isinstance(error, EmptyBodyError):
        return gettext("Write the text of the SMS.")
    if isinstance(error, ControlCharacterError):
        return gettext(
            "The text holds a control character (U+%(code)04X) at position %(position)d; "
            "only line breaks are allowed."
        ) % {"code": ord(error.char), "position": error.position + 1}
    if isinstance(error, MessageTooLongError):
        text = error.value if isinstance(error.value, str) else ""
        return gettext(
            "The text has %(count)d characters, but this encoding holds %(limit)d characters; "
            "shorten it or leave the encoding automatic. Nothing is cut silently."
        ) % {"count": count_characters(text), "limit": getattr(error, "limit", LONG_LIMIT)}
    if isinstance(error, UnencodableTextError):
        return _unencodable(error)
    if isinstance(error, ScheduleError):
        return _schedule(error)
    if isinstance(error, InvalidNumberError):
        if len(error.invalid) == 1:
            value, reason = error.invalid[0]
            return gettext("%(number)s is not a number SMS can be sent to: %(reason)s.") % {
                "number": value,
                "reason": number_reason(reason),
            }
        return gettext("%(count)d numbers are not valid.") % {"count": len(error.invalid)}
    if isinstance(error, SmsgoValidationError):
        return str(error)
    return str(error)


def _unencodable(error: UnencodableTextError) -> str:
    text = error.value if isinstance(error.value, str) else ""
    encoding = _encoding_in(error.rule)
    codec = "ascii" if encoding is not None and encoding.charset == "ascii" else "cp950"
    bad = sorted({char for char in text if not _encodable(char, codec)})
    return gettext(
        "%(encoding)s cannot carry these characters: %(chars)s. Leave the encoding "
        "automatic or choose UCS2."
    ) % {"encoding": encoding.value if encoding else "", "chars": characters_shown(bad)}


def _schedule(error: ScheduleError) -> str:
    if isinstance(error.value, datetime) and error.value.utcoffset() is not None:
        if "after" in error.rule:
            return gettext("The expiry %(when)s (Taiwan time) must come after the schedule.") % {
                "when": taipei_minute(error.value)
            }
        return gettext(
            "%(when)s (Taiwan time) is in the past: choose a time in the future, or leave the "
            "schedule empty to send when you confirm."
        ) % {"when": taipei_minute(error.value)}
    return gettext("Give the schedule as a date and a time in Taiwan time.")


def _encoding_in(rule: str) -> Encoding | None:
    for word in rule.split():
        try:
            return Encoding.parse(word)
        except SmsgoValidationError:
            continue
    return None


def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def characters_shown(chars: list[str], limit: int = 10) -> str:
    """Characters as staff can find them in their text: the glyph and its code point."""
    shown = " ".join(f"「{c}」U+{ord(c):04X}" for c in chars[:limit])
    if len(chars) > limit:
        shown += " " + gettext("and %(count)d more") % {"count": len(chars) - limit}
    return shown


def half_width(char: str) -> str | None:
    """The ASCII character a full-width one stands for (``，`` → ``,``), None when none."""
    folded = unicodedata.normalize("NFKC", char)
    if folded != char and len(folded) == 1 and folded.isascii():
        return folded
    return None

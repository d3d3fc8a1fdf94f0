"""The gateway's rules as the vendor document (smsgo HTTP API 6.1) states them.

Written from the document alone, on purpose apart from ``django_smsgo.client``:
the simulator checks the client, so the two must not share a reading of the
document (a wrong reading shared by both would pass every test).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django_smsgo.outcomes import (  # noqa: F401 - the rule, re-exported for the simulator
    ENROUTE,
    OUTCOME_BY_LAST_TWO_DIGITS,
    SCHEDULED,
    outcome_for_number,
)

#: The gateway's clock: Taiwan, UTC+8, no daylight saving time.
TAIPEI = timezone(timedelta(hours=8), "Asia/Taipei")

#: ``dlvtime`` and the reply ``timestamp`` format.
DLVTIME_FORMAT = "%Y/%m/%d %H:%M:%S"

#: Table 1 of the document, word for word: the ``statusstr`` each code is answered with.
STATUS_TEXT: dict[int, str] = {
    0: "OK",
    -1: "CGI string error or Unknow",
    -2: "授權錯誤(帳號/密碼錯誤/IP錯誤)",
    -3: "Priority錯誤(User設定太高的優先權)",
    -4: "A Number違反規則",
    -5: "B Number違反規則",
    -6: "Closed User",
    -7: "Invalid Encoding",
    -8: "點數不夠",
    -9: "Invalid msisdn amount",
    -10: "Send Fail",
}

#: FAQ 7, word for word: the ``statusstr`` of -1 when the request itself is malformed (the
#: FAQ's case is an empty body). Table 1's "or Unknow" half keeps its table words: a
#: well-formed request naming something the gateway does not know or cannot act on.
MALFORMED_TEXT = "CGI string error!!"

#: Table 2: the final message states.
FINAL_STATES = frozenset(
    {
        "DELIVRD",
        "EXPIRED",
        "DELETED",
        "UNDELIV",
        "ABSENT",
        "SPAM",
        "BLOCK",
        "ACCEPTD",
        "UNKNOWN",
        "REJECTD",
        "SYNTAXE",
    }
)

# What a query answers before the final state (the document lists none; both can
# be renamed in SimulatorConfig): ENROUTE and SCHEDULED, shared with the test backends.
#: Table 2's state of a message cancelled before it was due.
DELETED = "DELETED"
DELIVERED = "DELIVRD"

SINGLE_ENCODINGS = frozenset({"BIG5", "ASCII", "UCS2", "PBIG5", "PASCI"})
LONG_ENCODINGS = frozenset({"LBIG5", "LASCI", "LUCS2"})
PUSH = "PUSH"
#: The only encodings that allow international numbers, ``replyurl`` and ``replydays``.
PLAIN_ENCODINGS = frozenset({"BIG5", "ASCII", "UCS2"})
#: The notes spell two encodings with a double I; both spellings are taken.
ENCODING_ALIASES = {"PASCII": "PASCI", "LASCII": "LASCI"}

MAX_NUMBERS = 50
SINGLE_LIMIT_NON_ASCII = 70
SINGLE_LIMIT_ASCII = 160
LONG_LIMIT = 330
LONG_SEGMENT_NON_ASCII = 67
LONG_SEGMENT_ASCII = 153
PUSH_BYTE_LIMIT = 88
REPLYURL_MAX_LENGTH = 300
REPLYDAYS_MAX = 30
SMS_PER_REPLY_POINT = 10

#: The longest msgid looked up (ours are 16 digits); longer is malformed, not a huge number.
MSGID_MAX_DIGITS = 20

# [0-9], never \d: a str pattern's \d also matches full-width and other scripts' digits,
# which the gateway does not take for digits.
_DOMESTIC = re.compile(r"09[0-9]{8}")
_CHINA = re.compile(r"\+86(1[358][0-9]{9})")
_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{6,14}")
_DLVTIME = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_ASCII_SPACE = " \t\r\n"


class RuleError(Exception):
    """A request breaks a rule; ``code`` is the table-1 code the gateway answers.

    ``unknown`` marks a -1 for a well-formed request that names something the
    gateway does not know or cannot act on (table 1's "Unknow"), as opposed to
    a malformed request (FAQ 7's "CGI string error!!").
    """

    def __init__(self, code: int, reason: str, *, unknown: bool = False) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.unknown = unknown

    @property
    def text(self) -> str:
        """The ``statusstr`` the gateway answers for this refusal."""
        return status_text(self.code, unknown=self.unknown)


def status_text(code: int, *, unknown: bool = False) -> str:
    """The document's words for ``code``: FAQ 7's for a malformed request, else table 1's."""
    if code == -1 and not unknown:
        return MALFORMED_TEXT
    return STATUS_TEXT[code]


def is_ascii_digits(text: str) -> bool:
    """True for ``0``-``9`` only: ``str.isdigit()`` also takes ``²`` and ``１``."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def parse_msgid(text: str) -> int | None:
    """The msgid ``text`` names, or ``None`` when it is not 1 to 20 ASCII digits."""
    if len(text) > MSGID_MAX_DIGITS or not is_ascii_digits(text):
        return None
    return int(text)


def normalise_encoding(value: str | None) -> str:
    """The encoding a request names: ``BIG5`` when absent, aliases folded; -7 if unknown."""
    if value is None or value == "":
        return "BIG5"
    name = ENCODING_ALIASES.get(value, value)
    if name in SINGLE_ENCODINGS or name in LONG_ENCODINGS or name == PUSH:
        return name
    raise RuleError(-7, f"unknown encoding {value!r}")


def is_international(number: str) -> bool:
    """True for a number written with a leading ``+`` and a country code."""
    return number.startswith("+")


def check_number(number: str) -> None:
    """Raise -5 unless ``number`` is ``09`` + 8 digits or ``+`` country code + number.

    China (+86) must be 11 digits starting 13, 15 or 18, as the document says.
    """
    if _DOMESTIC.fullmatch(number):
        return
    if number.startswith("+86"):
        if _CHINA.fullmatch(number):
            return
        raise RuleError(-5, f"receiver {number!r}: China numbers are +86 and 11 digits (13/15/18)")
    if _INTERNATIONAL.fullmatch(number):
        return
    raise RuleError(-5, f"receiver {number!r} is neither 09 + 8 digits nor +<country><number>")


def split_numbers(dstaddr: str | None) -> list[str]:
    """The receiver list of a send: at most 50, each valid, repeats kept once, order kept."""
    if not dstaddr or not dstaddr.strip(_ASCII_SPACE):
        raise RuleError(-5, "dstaddr is missing or empty")
    numbers = [part.strip(_ASCII_SPACE) for part in dstaddr.split(",")]
    if len(numbers) > MAX_NUMBERS:
        raise RuleError(-9, f"{len(numbers)} receivers, at most {MAX_NUMBERS}")
    for number in numbers:
        check_number(number)
    return list(dict.fromkeys(numbers))


def parse_dlvtime(value: str) -> float:
    """The epoch seconds of a ``YYYY/MM/DD hh24:mm:ss`` Taipei time; -1 when malformed.

    Exactly the document's format: ASCII digits, zero-padded, one space,
    nothing around it (``strptime`` alone would take ``2031/1/5 9:05:00``).
    """
    problem = f"dlvtime {value!r} is not YYYY/MM/DD hh24:mm:ss (zero-padded, nothing around it)"
    if not _DLVTIME.fullmatch(value):
        raise RuleError(-1, problem)
    try:
        local = datetime.strptime(value, DLVTIME_FORMAT)
    except ValueError:
        raise RuleError(-1, f"dlvtime {value!r} is not a date and time of the calendar") from None
    return local.replace(tzinfo=TAIPEI).timestamp()


def format_taipei(epoch: float) -> str:
    """``epoch`` as ``YYYY/MM/DD HH:MM:SS`` in Taipei time."""
    return datetime.fromtimestamp(epoch, TAIPEI).strftime(DLVTIME_FORMAT)


def is_ascii(text: str) -> bool:
    """True when every character is 7-bit ASCII (the 160-character rule applies)."""
    return text.isascii()


@dataclass(frozen=True)
class Charge:
    """What one send costs and what the gateway really sends.

    ``body`` is the text after the gateway's silent truncation; ``truncated``
    says whether it cut anything; ``pushed_to_long`` that a PUSH went over
    88 bytes and is charged as a long SMS.
    """

    body: str
    segments: int
    points: int
    truncated: bool
    pushed_to_long: bool = False


def single_limit(text: str) -> int:
    """Characters one SMS holds: 160 for pure ASCII, 70 as soon as one is not."""
    return SINGLE_LIMIT_ASCII if is_ascii(text) else SINGLE_LIMIT_NON_ASCII


def long_segments(text: str) -> int:
    """Concatenated segments a long SMS is charged for (one if it fits a single SMS)."""
    if len(text) <= single_limit(text):
        return 1
    per_segment = LONG_SEGMENT_ASCII if is_ascii(text) else LONG_SEGMENT_NON_ASCII
    return math.ceil(len(text) / per_segment)


def push_bytes(smbody: str, wapurl: str) -> int:
    """Bytes of a WAP push: UTF-8, so a Chinese character counts 3."""
    return len((smbody + wapurl).encode("utf-8", "surrogateescape"))


def charge(encoding: str, smbody: str, wapurl: str, receivers: int, with_reply: bool) -> Charge:
    """Points for ``receivers`` numbers: 1 per segment per number, +1 per 10 SMS with replyurl.

    Single encodings cut the text at 70/160 characters, long ones at 330.
    """
    pushed_to_long = False
    if encoding == PUSH:
        body = smbody
        truncated = False
        if push_bytes(smbody, wapurl) <= PUSH_BYTE_LIMIT:
            segments = 1
        else:
            pushed_to_long = True
            segments = long_segments((smbody + wapurl)[:LONG_LIMIT])
    elif encoding in LONG_ENCODINGS:
        body = smbody[:LONG_LIMIT]
        truncated = body != smbody
        segments = long_segments(body)
    else:
        body = smbody[: single_limit(smbody)]
        truncated = body != smbody
        segments = 1
    sms = segments * receivers
    points = sms + (math.ceil(sms / SMS_PER_REPLY_POINT) if with_reply else 0)
    return Charge(body, segments, points, truncated, pushed_to_long)


def reply_encoding(text: str) -> str:
    """The encoding a reply is reported with: ASCII, BIG5 when cp950 holds it, else UCS2."""
    if is_ascii(text):
        return "ASCII"
    try:
        text.encode("cp950")
    except UnicodeEncodeError:
        return "UCS2"
    return "BIG5"

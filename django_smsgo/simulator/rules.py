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

#: Table 1 of the document, with the text each code is answered with.
STATUS_TEXT: dict[int, str] = {
    0: "OK",
    -1: "CGI string error!!",
    -2: "Authorization error",
    -3: "Priority error",
    -4: "A Number violation",
    -5: "B Number violation",
    -6: "Closed User",
    -7: "Invalid Encoding",
    -8: "Not enough points",
    -9: "Invalid msisdn amount",
    -10: "Send Fail",
}

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

CANCELLED = "CANCELLED"

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

_DOMESTIC = re.compile(r"09\d{8}")
_CHINA = re.compile(r"\+86(1[358]\d{9})")
_INTERNATIONAL = re.compile(r"\+[1-9]\d{6,14}")


class RuleError(Exception):
    """A request breaks a rule; ``code`` is the table-1 code the gateway answers."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


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
    if not dstaddr or not dstaddr.strip():
        raise RuleError(-5, "dstaddr is missing or empty")
    numbers = [part.strip() for part in dstaddr.split(",")]
    if len(numbers) > MAX_NUMBERS:
        raise RuleError(-9, f"{len(numbers)} receivers, at most {MAX_NUMBERS}")
    for number in numbers:
        check_number(number)
    return list(dict.fromkeys(numbers))


def parse_dlvtime(value: str) -> float:
    """The epoch seconds of a ``YYYY/MM/DD HH:MM:SS`` Taipei time; -1 when malformed."""
    try:
        local = datetime.strptime(value.strip(), DLVTIME_FORMAT)
    except ValueError:
        raise RuleError(-1, f"dlvtime {value!r} is not YYYY/MM/DD HH:MM:SS") from None
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

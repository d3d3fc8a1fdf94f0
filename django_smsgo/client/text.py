"""Text rules: which encoding a text needs, how many SMS it takes, what it costs.

The numbers (vendor document and decision 11):

* single encodings (BIG5, ASCII, UCS2, popup PBIG5/PASCI) carry ONE SMS of
  160 characters when the text is pure ASCII, 70 as soon as one character is
  not; the gateway cuts longer text silently, so we never send it;
* long encodings (LBIG5, LASCI, LUCS2) carry up to 330 characters, charged per
  concatenated segment of 153 characters (pure ASCII) or 67 (otherwise); a text
  that fits one SMS is one segment;
* PUSH: ``smbody`` + ``wapurl`` up to 88 UTF-8 bytes is one point; longer, the
  gateway turns it into a long SMS and charges it as such;
* 1 point per segment per number, and with ``replyurl`` one more point per 10
  SMS of the request, rounded up.

Characters are counted in UTF-16 code units: a handset receives non-ASCII SMS
as UCS-2/UTF-16, where a character outside the Basic Multilingual Plane (an
emoji) takes two places. Counting it twice means we never send a text the
gateway would cut.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sized

from django_smsgo.client.encodings import Encoding
from django_smsgo.exceptions import (
    ControlCharacterError,
    EmptyBodyError,
    MessageTooLongError,
    SmsgoValidationError,
    UnencodableTextError,
)

SINGLE_LIMIT_ASCII = 160
SINGLE_LIMIT_OTHER = 70
LONG_LIMIT = 330
LONG_SEGMENT_ASCII = 153
LONG_SEGMENT_OTHER = 67
PUSH_BYTE_LIMIT = 88
SMS_PER_REPLY_POINT = 10

# Places after which a text reads well when cut (besides whitespace).
_PUNCTUATION = frozenset(",.;:!?)]}，。、；：！？）」』】…")


def is_control(char: str) -> bool:
    """C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F): characters that print nothing."""
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def check_control_characters(text: str) -> None:
    """Raise :class:`ControlCharacterError` for any control character but ``\\n`` and ``\\r``.

    A handset shows such characters as boxes or acts on them (ESC sequences,
    NUL ends the text for some gateways); line breaks are the only ones a
    text needs.
    """
    found = [
        (index, char) for index, char in enumerate(text) if is_control(char) and char not in "\n\r"
    ]
    if found:
        index, char = found[0]
        raise ControlCharacterError(text, char, index, len(found))


def count_characters(text: str) -> int:
    """Characters ``text`` takes in an SMS: UTF-16 code units (an emoji counts 2)."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def is_ascii(text: str) -> bool:
    """True when every character is 7-bit ASCII (the 160-character rule applies)."""
    return text.isascii()


def single_limit(text: str) -> int:
    """Characters one SMS holds for ``text``: 160 when pure ASCII, else 70."""
    return SINGLE_LIMIT_ASCII if is_ascii(text) else SINGLE_LIMIT_OTHER


def fits_single(text: str) -> bool:
    """True when ``text`` fits one SMS of a single encoding."""
    return count_characters(text) <= single_limit(text)


def choose_encoding(text: str) -> Encoding:
    """ASCII for pure ASCII, BIG5 when cp950 holds every character, otherwise UCS2."""
    if is_ascii(text):
        return Encoding.ASCII
    if _encodable(text, "cp950"):
        return Encoding.BIG5
    return Encoding.UCS2


def _encodable(text: str, codec: str) -> bool:
    # Round trip, not just "encodes": cp950 maps a few characters to look-alikes
    # (U+00A2 ¢ comes back as U+FFE0 ￠), which would change the text on the phone.
    try:
        return text.encode(codec).decode(codec) == text
    except UnicodeError:
        return False


def check_charset(text: str, encoding: Encoding | str) -> None:
    """Raise :class:`UnencodableTextError` naming the characters ``encoding`` cannot carry."""
    encoding = Encoding.parse(encoding)
    charset = encoding.charset
    if not _encodable(text, "utf-8"):
        # Lone surrogates: no URL can carry them.
        raise UnencodableTextError(text, "the text holds invalid characters (lone surrogates)")
    if charset == "unicode":
        return
    codec = "ascii" if charset == "ascii" else "cp950"
    bad = sorted({char for char in text if not _encodable(char, codec)})
    if bad:
        shown = " ".join(f"{char!r} (U+{ord(char):04X})" for char in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        need = "pure ASCII text" if codec == "ascii" else "characters of the BIG5 (cp950) set"
        raise UnencodableTextError(
            text,
            f"{encoding} carries only {need}",
            f"The text holds characters {encoding} cannot carry: {shown}{more}. "
            f"{encoding} carries only {need}; use UCS2 (or leave the encoding automatic).",
        )


def fit_encoding(text: str, encoding: Encoding | str | None = None) -> Encoding:
    """The encoding to send ``text`` with; never one that would cut it.

    With ``encoding=None`` the encoding is automatic: the single encoding
    :func:`choose_encoding` picks when the text fits one SMS, its long variant
    when the text is up to 330 characters. With an explicit encoding, the text
    must fit it. Raises :class:`EmptyBodyError`, :class:`UnencodableTextError`
    or :class:`MessageTooLongError`, each naming the rule.
    """
    if not text or not text.strip():
        raise EmptyBodyError(text, "the text must not be empty (the gateway answers -1)")
    count = count_characters(text)
    if encoding is None:
        chosen = choose_encoding(text)
        if fits_single(text):
            return chosen
        if count <= LONG_LIMIT:
            long_variant = chosen.long_variant
            assert long_variant is not None  # every plain encoding has one
            return long_variant
        raise _too_long(text, count, LONG_LIMIT, "a long SMS holds at most 330 characters")
    chosen = Encoding.parse(encoding)
    check_charset(text, chosen)
    if chosen.is_single and not fits_single(text):
        limit = single_limit(text)
        kind = "pure ASCII text" if limit == SINGLE_LIMIT_ASCII else "text with non-ASCII"
        raise _too_long(
            text,
            count,
            limit,
            f"one {chosen} SMS holds {limit} characters of {kind}; "
            f"use {chosen.long_variant or 'a long encoding'} or split_text()",
        )
    if count > LONG_LIMIT:
        raise _too_long(text, count, LONG_LIMIT, f"{chosen} holds at most 330 characters")
    return chosen


def _too_long(text: str, count: int, limit: int, rule: str) -> MessageTooLongError:
    error = MessageTooLongError(
        text,
        rule,
        f"The text has {count} characters but {rule}; nothing is cut silently.",
    )
    error.limit = limit  # type: ignore[attr-defined]
    return error


def _long_segments(text: str) -> int:
    count = count_characters(text)
    if count <= single_limit(text):
        return 1
    per_segment = LONG_SEGMENT_ASCII if is_ascii(text) else LONG_SEGMENT_OTHER
    return math.ceil(count / per_segment)


def push_bytes(title: str, wapurl: str) -> int:
    """Bytes of a WAP push as the gateway counts them: UTF-8 (a Chinese character is 3)."""
    return len((title + wapurl).encode("utf-8", "surrogatepass"))


def count_segments(text: str, encoding: Encoding | str | None = None, *, wapurl: str = "") -> int:
    """SMS segments the gateway charges for ``text`` in ``encoding``, per number.

    Single encodings are one segment (the client refuses text that would be
    cut); long encodings one per 153/67 characters; PUSH one while title and
    ``wapurl`` fit 88 bytes, else counted as a long SMS. ``encoding=None``
    counts the encoding :func:`fit_encoding` would pick.
    """
    chosen = fit_encoding(text) if encoding is None else Encoding.parse(encoding)
    if chosen is Encoding.PUSH:
        if push_bytes(text, wapurl) <= PUSH_BYTE_LIMIT:
            return 1
        return _long_segments(text + wapurl)
    if chosen.is_long:
        return _long_segments(text)
    return 1


def estimate_points(
    text: str,
    numbers: int | Sized,
    encoding: Encoding | str | None = None,
    *,
    wapurl: str = "",
    with_reply: bool = False,
) -> int:
    """Points one request costs: segments × numbers, +1 per 10 SMS (rounded up) with replies.

    ``numbers`` is the count of receivers or the receivers themselves.
    """
    count = numbers if isinstance(numbers, int) else len(numbers)
    sms = count_segments(text, encoding, wapurl=wapurl) * count
    if with_reply:
        sms += math.ceil(sms / SMS_PER_REPLY_POINT)
    return sms


def split_text(text: str, encoding: Encoding | str | None = None) -> list[str]:
    """``text`` cut into pieces that each fit one SMS, preferably after a space or punctuation.

    The pieces joined give back ``text`` exactly (whitespace stays at the end of
    the piece it follows). Each piece holds 160 characters when pure ASCII, else
    70; with a long encoding, 330. An empty text gives no pieces.
    """
    long_pieces = False
    if encoding is not None:
        chosen = Encoding.parse(encoding)
        if chosen is Encoding.PUSH:
            raise SmsgoValidationError(encoding, "split_text splits SMS text, not a WAP push")
        check_charset(text, chosen)
        long_pieces = chosen.is_long
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = _longest_fit(text, start, long_pieces)
        if end < len(text):
            end = _break_point(text, start, end)
        pieces.append(text[start:end])
        start = end
    return pieces


def _longest_fit(text: str, start: int, long_pieces: bool) -> int:
    """The largest ``end`` for which ``text[start:end]`` fits one SMS (always > start)."""
    units = 0
    ascii_only = True
    end = start
    while end < len(text):
        char = text[end]
        width = 2 if ord(char) > 0xFFFF else 1
        still_ascii = ascii_only and char.isascii()
        if long_pieces:
            limit = LONG_LIMIT
        else:
            limit = SINGLE_LIMIT_ASCII if still_ascii else SINGLE_LIMIT_OTHER
        if units + width > limit:
            break
        units += width
        ascii_only = still_ascii
        end += 1
    return end


def _break_point(text: str, start: int, end: int) -> int:
    """Where to cut ``text[start:end]``: after whitespace or punctuation in its second half."""
    # Cutting far back would waste an SMS; half a piece is the least we accept.
    earliest = start + max(1, (end - start) // 2)
    for accept in (str.isspace, _PUNCTUATION.__contains__):
        for cut in range(end, earliest - 1, -1):
            if accept(text[cut - 1]) and not text[cut].isspace():
                return cut
    cut = end
    # Keep a base character with its combining marks, and \r with \n.
    while cut > start + 1 and (
        unicodedata.combining(text[cut]) or (text[cut - 1] == "\r" and text[cut] == "\n")
    ):
        cut -= 1
    return cut

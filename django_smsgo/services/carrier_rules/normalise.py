"""A text as a phone or a link checker reads it, with the way back to the text as written.

Links are written in SMS so that filters miss them: full-width letters, dots
and slashes (``ｂｉｔ．ｌｙ／ｘ``), the ideographic full stop (``example。com``,
which browsers read as a dot in a host name), invisible characters inside a
word, ``hxxp://``, ``[.]``, ``(dot)``, spaces around a dot. :func:`normalise`
undoes each of these and keeps, for every character of the result, where it
came from, so a refusal can quote the link as the sender wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# Characters that read as a dot in a host name (UTS #46: U+3002, U+FF0E, U+FF61).
_DOTS = {"\u3002": ".", "\uff61": ".", "\uff0e": "."}
# Dashes people type inside phone numbers.
_DASHES = dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "-")

# ``[.]``, ``(.)``, ``{.}``, ``<.>``, ``[dot]``, ``(dot)``, ``(點)``… -> "."
_BRACKETED_DOT = re.compile(r"[\[({<]\s*(?:\.|dot|點)\s*[\])}>]", re.IGNORECASE)
# ``[:]`` and ``[/]`` written the same way.
_BRACKETED_COLON = re.compile(r"[\[({<]\s*:\s*[\])}>]")
_BRACKETED_SLASH = re.compile(r"[\[({<]\s*/\s*[\])}>]")
# ``hxxp``, ``hXXps``, ``h**p``, ``h__p``, ``ht tp`` -> http / https.
_HXXP = re.compile(r"(?<![A-Za-z])h(?:xx|\*\*|__|t\s+t|tt)p(s?)(?=\s*:)", re.IGNORECASE)
# Spaces inside the scheme separator: ``http : // host``.
_SCHEME_SEPARATOR = re.compile(r"(?<=[A-Za-z])\s*:\s*/\s*/\s*", re.IGNORECASE)
# A dot with a space before it between two word characters (``example .com``,
# ``example . com``). A space only after a dot ends a sentence, so that form
# is joined only when a path follows (``bit. ly/x``), see _SPACE_AFTER_DOT.
_SPACE_BEFORE_DOT = re.compile(r"(?<=[A-Za-z0-9])\s+\.\s*(?=[A-Za-z0-9])")
_SPACE_AFTER_DOT = re.compile(r"(?<=[A-Za-z0-9])\.\s+(?=[A-Za-z]{2,24}/)")


@dataclass(frozen=True)
class NormalisedText:
    """``text`` as the checkers read it; ``origin[i]`` is where ``text[i]`` is in ``written``."""

    text: str
    origin: tuple[int, ...]
    written: str

    def written_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``written`` that ``text[start:end]`` came from."""
        if start >= end:
            return start, start
        return self.origin[start], self.origin[end - 1] + 1

    def written_text(self, start: int, end: int) -> str:
        """``written`` over the span that ``text[start:end]`` came from."""
        first, last = self.written_span(start, end)
        return self.written[first:last]


def normalise(written: str) -> NormalisedText:
    """Undo width, invisible characters and the usual link obfuscations in ``written``."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(written):
        if unicodedata.category(char) == "Cf":
            # Zero-width spaces and joiners, soft hyphens, direction marks.
            continue
        folded = _DOTS.get(char) or _DASHES.get(char) or unicodedata.normalize("NFKC", char)
        for out in folded:
            chars.append(out)
            origin.append(index)
    text, where = "".join(chars), origin
    for pattern, replacement in (
        (_BRACKETED_DOT, lambda m: "."),
        (_BRACKETED_COLON, lambda m: ":"),
        (_BRACKETED_SLASH, lambda m: "/"),
        (_HXXP, lambda m: "http" + m.group(1).lower()),
        (_SCHEME_SEPARATOR, lambda m: "://"),
        (_SPACE_BEFORE_DOT, lambda m: "."),
        (_SPACE_AFTER_DOT, lambda m: "."),
    ):
        text, where = _substitute(text, where, pattern, replacement)
    return NormalisedText(text=text, origin=tuple(where), written=written)


def _substitute(
    text: str,
    origin: list[int],
    pattern: re.Pattern[str],
    replacement: Callable[[re.Match[str]], str],
) -> tuple[str, list[int]]:
    """``pattern.sub`` that keeps ``origin`` in step: new characters point at the match's start."""
    out: list[str] = []
    where: list[int] = []
    position = 0
    for match in pattern.finditer(text):
        out.append(text[position : match.start()])
        where.extend(origin[position : match.start()])
        new = replacement(match)
        out.append(new)
        # The replacement stands for the whole match; its first character keeps
        # the match's start and the last its end, so spans stay inclusive.
        anchors = [origin[match.start()]] * len(new)
        if anchors and match.end() > match.start():
            anchors[-1] = origin[match.end() - 1]
        where.extend(anchors)
        position = match.end()
    out.append(text[position:])
    where.extend(origin[position:])
    return "".join(out), where

"""ASCII digits only: full-width forms converted, every other kind of digit refused.

``str.isdigit()``, ``int()`` and ``\\d`` take any Unicode digit, so ``0912３４５６７５``
and ``0912345675`` were two numbers, and a full-width spelling slipped past a
suppression list. Chinese input methods type the full-width forms (U+FF10 to
U+FF19, and ＋ － （ ） ． ／ and the ideographic space U+3000): those are the
same characters to a reader and are converted. Other digits (Arabic-Indic,
Devanagari, superscripts, mathematical digits…) are not what anyone dials or
what the gateway sends; they are refused.
"""

from __future__ import annotations

import unicodedata

_FULL_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + digit): str(digit) for digit in range(10)},
        "＋": "+",
        "－": "-",
        "（": "(",
        "）": ")",
        "．": ".",
        "／": "/",
        "\u3000": " ",
    }
)

#: The rule in words, for error messages.
RULE = "digits are 0-9 (full-width ０-９ are read as 0-9); no other kind of digit"


class ForeignDigitError(ValueError):
    """A digit that is neither ASCII nor full-width; ``char`` and ``index`` say which and where."""

    def __init__(self, char: str, index: int) -> None:
        self.char = char
        self.index = index
        name = unicodedata.name(char, "")
        shown = f"U+{ord(char):04X}" + (f" {name}" if name else "")
        super().__init__(f"{char!r} ({shown}) at position {index} is not allowed: {RULE}")


def _is_digit_like(char: str) -> bool:
    # Nd: decimal digits of every script; No/Nl: superscripts, circled digits…
    return char.isdigit() or char.isnumeric() or unicodedata.category(char) in ("Nd", "No", "Nl")


def ascii_digits(text: str) -> str:
    """``text`` with full-width digits, signs and spaces as ASCII.

    Raises :class:`ForeignDigitError` for any other non-ASCII digit; other
    characters are left for the caller's own rules.
    """
    if text.isascii():
        return text  # the common case: nothing to convert, nothing to refuse
    converted = text.translate(_FULL_WIDTH)
    if not converted.isascii():
        for index, char in enumerate(converted):
            if not char.isascii() and _is_digit_like(char):
                raise ForeignDigitError(char, index)
    return converted

"""The gateway's ``encoding`` parameter: which encodings exist and what each allows."""

from __future__ import annotations

from enum import StrEnum

from django_smsgo.exceptions import InvalidEncodingError

#: The notes of the vendor document spell two encodings with a double I; the
#: parameter table (which we send) with one. Both are accepted on input.
_ALIASES = {"PASCII": "PASCI", "LASCII": "LASCI"}


class Encoding(StrEnum):
    """One value of ``encoding``. The value is exactly what the gateway is sent."""

    BIG5 = "BIG5"
    ASCII = "ASCII"
    UCS2 = "UCS2"
    PBIG5 = "PBIG5"
    PASCI = "PASCI"
    LBIG5 = "LBIG5"
    LASCI = "LASCI"
    LUCS2 = "LUCS2"
    PUSH = "PUSH"

    @classmethod
    def parse(cls, value: str | Encoding) -> Encoding:
        """The encoding named by ``value`` (any case, ``PASCII``/``LASCII`` accepted).

        Raises :class:`~django_smsgo.exceptions.InvalidEncodingError` naming the value.
        """
        if isinstance(value, Encoding):
            return value
        if not isinstance(value, str):
            raise InvalidEncodingError(value, "the encoding must be a string")
        name = value.strip().upper()
        name = _ALIASES.get(name, name)
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(member.value for member in cls)
            raise InvalidEncodingError(value, f"the encoding must be one of {known}") from None

    @property
    def is_plain(self) -> bool:
        """BIG5, ASCII, UCS2: the only ones that allow replies and international numbers."""
        return self in _PLAIN

    @property
    def is_single(self) -> bool:
        """One SMS, cut by the gateway past 70/160 characters (plain and popup encodings)."""
        return self in _PLAIN or self in _POPUP

    @property
    def is_popup(self) -> bool:
        """PBIG5, PASCI: shown on the screen at once (flash SMS)."""
        return self in _POPUP

    @property
    def is_long(self) -> bool:
        """LBIG5, LASCI, LUCS2: concatenated SMS of up to 330 characters."""
        return self in _LONG

    @property
    def charset(self) -> str:
        """What the text must fit: ``ascii``, ``cp950`` (BIG5) or ``unicode``."""
        if self in (Encoding.ASCII, Encoding.PASCI, Encoding.LASCI):
            return "ascii"
        if self in (Encoding.BIG5, Encoding.PBIG5, Encoding.LBIG5):
            return "cp950"
        return "unicode"

    @property
    def long_variant(self) -> Encoding | None:
        """The long encoding with the same character set (ASCII -> LASCI), if any."""
        return _LONG_VARIANT.get(self)


_PLAIN = frozenset({Encoding.BIG5, Encoding.ASCII, Encoding.UCS2})
_POPUP = frozenset({Encoding.PBIG5, Encoding.PASCI})
_LONG = frozenset({Encoding.LBIG5, Encoding.LASCI, Encoding.LUCS2})
_LONG_VARIANT = {
    Encoding.BIG5: Encoding.LBIG5,
    Encoding.ASCII: Encoding.LASCI,
    Encoding.UCS2: Encoding.LUCS2,
    Encoding.LBIG5: Encoding.LBIG5,
    Encoding.LASCI: Encoding.LASCI,
    Encoding.LUCS2: Encoding.LUCS2,
}

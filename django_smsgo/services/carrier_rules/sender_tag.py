"""The sender tag (簡訊實名制): a business SMS must name who sends it.

Taiwan's carriers block, since 2025-11-01, business SMS whose text does not
name the sender (a brand in brackets such as ``【好物商店】``, preferably at the
start). The project configures its tag once (``SENDER_TAG``) and chooses what
happens to a text without it (``SENDER_TAG_MODE``): ``"require"`` refuses it,
``"prefix"`` puts the tag in front, ``None`` leaves the text alone.

The tag is compared as it is written, character for character: the carriers
match the sender name registered with them, and a vendor notice warns that a
full-width spelling of a half-width name (``ＥＶＥＲＹ８Ｄ`` for ``EVERY8D``)
does not count.
"""

from __future__ import annotations

from dataclasses import dataclass

from django_smsgo.services.carrier_rules.errors import SenderTagMissingError

REQUIRE = "require"
PREFIX = "prefix"
MODES = (REQUIRE, PREFIX)


@dataclass(frozen=True)
class TaggedText:
    """A text after the sender-tag rule: the final ``body`` and whether the tag was added."""

    body: str
    added: bool


def has_sender_tag(body: str, tag: str) -> bool:
    """True when ``body`` carries ``tag`` anywhere, exactly as written."""
    return bool(tag) and tag in body


def apply_sender_tag(body: str, *, tag: str, mode: str | None) -> TaggedText:
    """Apply the sender-tag rule to ``body``.

    ``mode=None`` or an empty ``tag``: the text is left alone. ``"require"``:
    raises :class:`SenderTagMissingError` when the tag is missing. ``"prefix"``:
    a text without the tag gets it in front (a text that already carries it,
    anywhere, is left alone, so applying the rule twice changes nothing).
    """
    if mode is None or not tag:
        return TaggedText(body, added=False)
    if has_sender_tag(body, tag):
        return TaggedText(body, added=False)
    if mode == REQUIRE:
        raise SenderTagMissingError(body, tag=tag)
    if mode == PREFIX:
        return TaggedText(tag + body, added=True)
    raise ValueError(f"SENDER_TAG_MODE {mode!r} is not one of None, {', '.join(MODES)}.")

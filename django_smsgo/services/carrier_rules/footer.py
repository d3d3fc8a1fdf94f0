"""The opt-out line of marketing SMS: a free way to refuse further messages.

Taiwan's Personal Data Protection Act (art. 20) asks whoever markets with
personal data to offer, at the first marketing contact, a way to refuse
further marketing at the sender's cost, and to stop at once on refusal. The
project writes that way once (``OPT_OUT_FOOTER``, e.g. ``" 退訂回覆STOP"``);
it is appended to every marketing text and counted like any other character.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FooterText:
    """A text after the footer rule: the final ``body`` and whether the footer was added."""

    body: str
    added: bool


def apply_opt_out_footer(body: str, *, footer: str) -> FooterText:
    """Append ``footer`` to ``body`` as it is written (its own leading space or new line).

    An empty footer leaves the text alone, and so does a text that already
    ends with the footer (ignoring whitespace at the end), so a text edited
    from an earlier send does not get it twice.
    """
    if not footer or not footer.strip():
        return FooterText(body, added=False)
    if body.rstrip().endswith(footer.strip()):
        return FooterText(body, added=False)
    return FooterText(body + footer, added=True)

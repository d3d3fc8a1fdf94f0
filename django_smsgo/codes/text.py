"""The text of a code SMS, written to resist phishing.

A code SMS says who sends it (the sender tag, in 【】 as Taiwanese carriers
show it), the code, how long it is valid, and never to share it; optionally
the last digits of the number it was meant for, as Taiwan's government
short-code platform does, so a code forwarded to a victim by a fraudster
shows a number that is not theirs.
"""

from __future__ import annotations

import secrets
import string

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext

from django_smsgo.conf import smsgo_settings

_PLACEHOLDERS = frozenset({"sender", "code", "minutes", "digits"})


def new_code(length: int) -> str:
    """``length`` random decimal digits from the system's secure generator."""
    if not 4 <= length <= 10:
        raise ImproperlyConfigured(f"SMSGO['OTP_LENGTH'] is {length!r}; use 4 to 10 digits.")
    return "".join(secrets.choice(string.digits) for _ in range(length))


def sender_tag() -> str:
    """The sender tag in 【】: ``SENDER_TAG`` when the project sets it, else ``OTP_SENDER_TAG``."""
    tag = str(getattr(smsgo_settings, "SENDER_TAG", "") or smsgo_settings.OTP_SENDER_TAG or "")
    tag = tag.strip()
    if not tag or tag.startswith(("【", "[")):
        return tag
    return f"【{tag}】"


def code_message(code: str, number: str, validity: int) -> str:
    """The SMS for ``code`` to ``number``: the project template, else ours (active language)."""
    show = int(smsgo_settings.OTP_SHOW_NUMBER_DIGITS or 0)
    digits = number[-show:] if show > 0 else ""
    values = {
        "sender": sender_tag(),
        "code": code,
        "minutes": max(1, validity // 60),
        "digits": digits,
    }
    template = smsgo_settings.OTP_MESSAGE_TEMPLATE
    if template:
        return _render_custom(str(template), values)
    # Short enough for one SMS with a tag of a few characters: 【】 make the
    # text UCS2, whose single SMS holds 70 characters.
    if digits:
        text = gettext(
            "{sender}Code {code} for phone ending {digits}, valid {minutes} min. Do not share it."
        )
    else:
        text = gettext("{sender}Your code is {code}, valid {minutes} min. Never share it.")
    return text.format(**values)


def _render_custom(template: str, values: dict[str, object]) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    unknown = fields - _PLACEHOLDERS
    if unknown or "code" not in fields:
        raise ImproperlyConfigured(
            f"SMSGO['OTP_MESSAGE_TEMPLATE'] {template!r} must hold {{code}} and may hold only "
            f"{', '.join('{' + p + '}' for p in sorted(_PLACEHOLDERS))}."
        )
    return template.format(**values)

"""``phonenumbers.PhoneNumber`` (and django-phonenumber-field's subclass) as receiver numbers.

:func:`gateway_number` turns one into the form the gateway takes; the
integrations below hand numbers through it, so a ``PhoneNumberField`` works
with them whatever ``send_sms()`` itself accepts. Numbers of other regions
follow the international rules (``+<country code><number>``, mobile only).
"""

from __future__ import annotations

from typing import Any

from django_smsgo.client.numbers import normalize_number


def as_text(value: Any) -> Any:
    """A ``PhoneNumber`` as E.164 text; anything else unchanged (validation judges it)."""
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - phonenumbers is a dependency of django-smsgo
        return value
    if isinstance(value, phonenumbers.PhoneNumber):
        if not value.country_code or not value.national_number:
            return str(value)
        return phonenumbers.format_number(value, phonenumbers.PhoneNumberFormat.E164)
    return value


def gateway_number(value: Any) -> str:
    """``value`` (text or ``PhoneNumber``) normalised to ``09xxxxxxxx`` or ``+<country><number>``.

    Raises ``InvalidNumberError`` naming the value and the rule it breaks.
    """
    return normalize_number(as_text(value))

"""``phonenumbers.PhoneNumber`` (and django-phonenumber-field's subclass) as receiver numbers.

``send_sms()``, ``send_mass_sms()``, ``send_otp()`` and the integrations take
``PhoneNumber`` objects wherever they take a number, alone or mixed with text
(the client's ``normalize_numbers()`` formats them to E.164 first). Numbers of
other regions follow the international rules (``+<country code><number>``, a
valid mobile number of its country). :func:`gateway_number` says what a value
becomes, for code that wants the normalised text itself.
"""

from __future__ import annotations

from typing import Any

from django_smsgo.client.numbers import normalize_number


def gateway_number(value: Any) -> str:
    """``value`` (text or ``PhoneNumber``) normalised to ``09xxxxxxxx`` or ``+<country><number>``.

    Raises ``InvalidNumberError`` naming the value and the rule it breaks.
    """
    return normalize_number(value)

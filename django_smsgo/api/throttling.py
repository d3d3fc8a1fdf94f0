"""Rate limit on sending through the API."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from django_smsgo.conf import smsgo_settings


class SendRateThrottle(UserRateThrottle):
    """Limits ``POST messages/`` per user (per IP for anonymous requests).

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["smsgo_send"]`` when the
    project sets it, else the ``API_SEND_THROTTLE_RATE`` setting (default
    ``"60/min"``); ``None`` switches the limit off.
    """

    scope = "smsgo_send"

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope in rates:
            rate = rates[self.scope]
            return None if rate is None else str(rate)
        configured: str | None = smsgo_settings.API_SEND_THROTTLE_RATE
        return configured

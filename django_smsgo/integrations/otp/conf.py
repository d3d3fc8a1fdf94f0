"""Settings of the SMS device, named like django-otp's own plugins (``OTP_TWILIO_*``).

Each is a top-level Django setting read when used (``override_settings`` works):

``OTP_SMSGO_TOKEN_TEMPLATE`` (``None``)
    A ``str.format`` template for the SMS, with ``{token}`` (and ``{sender}``,
    ``{minutes}``); ``None`` is the code text of ``send_otp()``, which names the
    sender and says the validity, in the active language.
``OTP_SMSGO_TOKEN_VALIDITY`` (``300``)
    Seconds a token is valid, as django-otp's ``SideChannelDevice`` defaults
    to; the SMS is dropped rather than delivered later.
``OTP_SMSGO_THROTTLE_FACTOR`` (``1``)
    Seconds of the first delay after a wrong token, doubled on each one more
    (0: no throttling).
``OTP_SMSGO_COOLDOWN_DURATION`` (``60``)
    Seconds between two challenges (0: none).
``OTP_SMSGO_NO_DELIVERY`` (``False``)
    Development: log the token instead of sending it.
``OTP_SMSGO_CHALLENGE_MESSAGE`` (``"Sent by SMS"``)
    What ``generate_challenge()`` returns for the user.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    "OTP_SMSGO_TOKEN_TEMPLATE": None,
    "OTP_SMSGO_TOKEN_VALIDITY": 300,
    "OTP_SMSGO_THROTTLE_FACTOR": 1,
    "OTP_SMSGO_COOLDOWN_DURATION": 60,
    "OTP_SMSGO_NO_DELIVERY": False,
    "OTP_SMSGO_CHALLENGE_MESSAGE": None,
}


class OtpSmsgoSettings:
    """``settings.OTP_SMSGO_*`` with :data:`DEFAULTS` underneath."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown django-otp smsgo setting {name!r}")
        return getattr(django_settings, name, DEFAULTS[name])


settings = OtpSmsgoSettings()

"""``SmsgoDevice``: a django-otp side-channel device whose tokens travel by SMS."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django_otp.models import (
    CooldownMixin,
    GenerateNotAllowed,
    SideChannelDevice,
    ThrottlingMixin,
    TimestampMixin,
)

from django_smsgo.codes.text import code_message, sender_tag
from django_smsgo.exceptions import InvalidNumberError
from django_smsgo.integrations.otp.conf import settings
from django_smsgo.integrations.phonenumber import gateway_number
from django_smsgo.models import PHONE_MAX_LENGTH, Message

logger = logging.getLogger(__name__)


class SmsgoDevice(TimestampMixin, CooldownMixin, ThrottlingMixin, SideChannelDevice):
    """A device that sends each token by SMS to :attr:`number` through django-smsgo.

    ``generate_challenge()`` respects the cooldown (``OTP_SMSGO_COOLDOWN_DURATION``)
    and ``verify_token()`` the throttle (``OTP_SMSGO_THROTTLE_FACTOR``); a token
    is valid for ``OTP_SMSGO_TOKEN_VALIDITY`` seconds and accepted once.
    """

    number = models.CharField(
        gettext_lazy("number"),
        max_length=PHONE_MAX_LENGTH,
        help_text=gettext_lazy("The mobile number to deliver tokens to (09… or +…)."),
    )

    class Meta(SideChannelDevice.Meta):
        verbose_name = gettext_lazy("SMS device")
        verbose_name_plural = gettext_lazy("SMS devices")

    def clean(self) -> None:
        super().clean()
        try:
            self.number = gateway_number(self.number)
        except InvalidNumberError as error:
            raise ValidationError({"number": str(error)}) from None

    def generate_challenge(self, extra_context: dict[str, Any] | None = None) -> str:
        """Send a new token by SMS, unless the cooldown is running; return a line for the user.

        Raises what ``send_sms()`` raises (a bad number, the balance guard) so a
        view can report the challenge as failed.
        """
        allowed, data = self.generate_is_allowed()
        if not allowed:
            if data and data.get("reason") == GenerateNotAllowed.COOLDOWN_DURATION_PENDING:
                seconds = max(
                    1, round((data["next_generation_at"] - timezone.now()).total_seconds())
                )
                return gettext("A code was sent a moment ago; ask again in %(seconds)d s.") % {
                    "seconds": seconds
                }
            return gettext("Token generation is not allowed at this time")
        validity = int(settings.OTP_SMSGO_TOKEN_VALIDITY)
        self.cooldown_set(commit=False)
        self.generate_token(valid_secs=validity, commit=True)
        assert self.token is not None
        body = self.token_text(self.token, validity, extra_context)
        if settings.OTP_SMSGO_NO_DELIVERY:
            logger.info("OTP_SMSGO_NO_DELIVERY: token for %s not sent: %s", self.number, body)
        else:
            self.send(body)
        return str(settings.OTP_SMSGO_CHALLENGE_MESSAGE or gettext("Sent by SMS"))

    def token_text(
        self, token: str, validity: int, extra_context: dict[str, Any] | None = None
    ) -> str:
        """The SMS text for ``token``: ``OTP_SMSGO_TOKEN_TEMPLATE``, else the code text."""
        template = settings.OTP_SMSGO_TOKEN_TEMPLATE
        if template:
            values = {
                "token": token,
                "sender": sender_tag(),
                "minutes": max(1, validity // 60),
                **(extra_context or {}),
            }
            return str(template).format(**values)
        return code_message(token, gateway_number(self.number), validity)

    def send(self, body: str) -> Message:
        """Send ``body`` to the device's number: transactional, high priority, expiring."""
        from django_smsgo.services.sending import send_sms

        return send_sms(
            gateway_number(self.number),
            body,
            kind=Message.Kind.TRANSACTIONAL,
            priority=Message.Priority.HIGH,
            expires_at=self.valid_until,
            allow_duplicate=True,
        )

    def verify_token(self, token: Any) -> bool:
        """True for the current token before it expires; wrong tokens are throttled."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        verified = bool(super().verify_token(str(token).strip()))
        if verified:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment()
        return verified

    def get_cooldown_duration(self) -> int:
        """``OTP_SMSGO_COOLDOWN_DURATION``."""
        return int(settings.OTP_SMSGO_COOLDOWN_DURATION)

    def get_throttle_factor(self) -> int:
        """``OTP_SMSGO_THROTTLE_FACTOR``."""
        return int(settings.OTP_SMSGO_THROTTLE_FACTOR)

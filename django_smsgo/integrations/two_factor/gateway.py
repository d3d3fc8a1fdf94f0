"""A ``TWO_FACTOR_SMS_GATEWAY`` for django-two-factor-auth that sends through django-smsgo.

django-two-factor-auth builds the gateway with no arguments and calls
``send_sms(device=..., token=...)``. The token goes out as a transactional SMS
at the highest priority, expiring when the token stops being accepted (a
phone device accepts a TOTP token for five 30-second steps after it was made:
150 seconds at least), with the text of the template
``django_smsgo/two_factor/sms.txt`` (override it in the project).

Failures raise, so the setup wizard reports the challenge as failed: a number
or a send that breaks a rule raises at once; outside a transaction the gateway
then waits up to :attr:`SmsgoGateway.wait_seconds` for a worker to hand the SMS
to the gateway and raises :class:`ChallengeNotSent` when the gateway refused it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone

from django_smsgo.codes.text import sender_tag
from django_smsgo.exceptions import SmsgoError
from django_smsgo.integrations.phonenumber import gateway_number
from django_smsgo.models import Message

#: Message statuses after which waiting is over.
_SETTLED = frozenset(
    {
        Message.Status.SUBMITTED,
        Message.Status.COMPLETED,
        Message.Status.FAILED,
        Message.Status.CANCELLED,
        Message.Status.UNCERTAIN,
        Message.Status.SCHEDULED,
    }
)


class ChallengeNotSent(SmsgoError):
    """The gateway did not take the SMS carrying the token; ``message`` says why."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(
            f"The SMS with the token (message {message.pk}) was not sent: "
            f"{message.reason_text or message.status}."
        )


class SmsgoGateway:
    """Sends two-factor tokens by SMS through django-smsgo; phone calls are not offered.

    Subclass to change :attr:`template`, :attr:`token_validity` or
    :attr:`wait_seconds`, and point ``TWO_FACTOR_SMS_GATEWAY`` at the subclass.
    """

    #: The text's template; context: ``token``, ``sender`` (the sender tag in 【】), ``minutes``.
    template = "django_smsgo/two_factor/sms.txt"
    #: Seconds the token is surely accepted: the SMS is dropped rather than sent later.
    token_validity = 150
    #: Seconds to wait for the gateway's answer before returning (0: do not wait).
    wait_seconds = 10.0
    #: Seconds between two looks at the message while waiting.
    poll_interval = 0.1

    def send_sms(self, device: Any, token: str) -> Message:
        """Text ``token`` to ``device.number``; raise when it cannot be sent."""
        from django_smsgo.services.sending import send_sms

        body = self.render(device, token)
        message = send_sms(
            gateway_number(device.number),
            body,
            kind=Message.Kind.TRANSACTIONAL,
            priority=Message.Priority.HIGH,
            expires_at=timezone.now() + timedelta(seconds=self.token_validity),
            # Two tokens of one 30-second step are the same text; the second is wanted.
            allow_duplicate=True,
        )
        self.wait_for_gateway(message)
        return message

    def make_call(self, device: Any, token: str) -> None:
        """smsgo sends SMS only: configure another ``TWO_FACTOR_CALL_GATEWAY`` for calls."""
        raise NotImplementedError("smsgo sends SMS only; it cannot make phone calls.")

    def render(self, device: Any, token: str) -> str:
        """The text of the SMS carrying ``token``."""
        context = {
            "token": token,
            "sender": sender_tag(),
            "minutes": max(1, self.token_validity // 60),
            "device": device,
        }
        return render_to_string(self.template, context).strip()

    def wait_for_gateway(self, message: Message) -> None:
        """Wait until a worker handed ``message`` to the gateway; raise if it was refused.

        Inside a transaction nothing is dispatched before the commit, so there
        is nothing to wait for.
        """
        if self.wait_seconds <= 0 or connection.in_atomic_block:
            return
        deadline = time.monotonic() + self.wait_seconds
        while True:
            message.refresh_from_db(fields=["status", "reason_code", "reason_params"])
            if message.status in _SETTLED or time.monotonic() >= deadline:
                break
            time.sleep(self.poll_interval)
        if message.status in (Message.Status.FAILED, Message.Status.CANCELLED):
            raise ChallengeNotSent(message)

"""django-sms: ``SMS_BACKEND = "django_smsgo.integrations.django_sms.SmsBackend"``.

Code written against django-sms (``sms.send_sms()``, ``sms.Message(...).send()``)
then sends through django-smsgo unchanged: each django-sms message becomes one
``send_sms()`` (stored, dispatched by the workers, followed to its delivery),
and our ``Message`` is attached to it as ``smsgo_message``. The gateway has no
sender ids, so ``originator`` is ignored.

Options for every message of a connection are keyword arguments of the
backend (``sms.get_connection(kind="transactional", priority="high")``) or
the ``SMSGO_DJANGO_SMS_OPTIONS`` setting, a dict of ``send_sms()`` options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from sms.backends.base import BaseSmsBackend

from django_smsgo.exceptions import SmsgoError

#: ``send_sms()`` options a connection may set.
OPTIONS = frozenset(
    {"kind", "priority", "encoding", "expires_at", "send_at", "allow_duplicate", "created_by"}
)


class SmsBackend(BaseSmsBackend):
    """Sends django-sms messages with ``send_sms()``; ``send_messages()`` counts the queued."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        options = {**getattr(settings, "SMSGO_DJANGO_SMS_OPTIONS", {}), **kwargs}
        unknown = set(options) - OPTIONS
        if unknown:
            raise TypeError(
                f"Unknown send_sms() option(s) {', '.join(sorted(unknown))} for the smsgo "
                f"django-sms backend; known: {', '.join(sorted(OPTIONS))}."
            )
        self.options = options

    def send_messages(self, messages: Sequence[Any]) -> int:
        """Queue each message; return how many were queued.

        A message that cannot be sent (bad number, duplicate, balance) raises
        its ``SmsgoError``, unless the connection was made with
        ``fail_silently=True``: then it is skipped and ``smsgo_error`` holds why.
        """
        from django_smsgo.services.sending import send_sms

        queued = 0
        for message in messages:
            if not message.recipients:
                continue
            try:
                message.smsgo_message = send_sms(
                    list(message.recipients),
                    message.body,
                    **self.options,
                )
            except SmsgoError as error:
                message.smsgo_error = error
                if not self.fail_silently:
                    raise
                continue
            queued += 1
        return queued

"""An account adapter mixin that sends django-allauth's phone texts through django-smsgo.

django-allauth's phone support leaves the sending to the project's adapter.
Mix :class:`SmsgoPhoneAdapterMixin` in before ``DefaultAccountAdapter`` and
implement the four storage methods (``set_phone``, ``get_phone``,
``set_phone_verified``, ``get_user_by_phone``; see the integrations page):

.. code-block:: python

   class AccountAdapter(SmsgoPhoneAdapterMixin, DefaultAccountAdapter):
       ...

Each of the three texts costs points; each can be switched off with a class
attribute. The texts come from templates under ``django_smsgo/allauth/``
which the project can override.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from django_smsgo.codes.text import sender_tag
from django_smsgo.integrations.phonenumber import gateway_number
from django_smsgo.models import Message


class SmsgoPhoneAdapterMixin:
    """The SMS methods of allauth's ``DefaultAccountAdapter``, sending with ``send_sms()``."""

    #: Send the verification and login codes (off: nothing can log in by phone).
    smsgo_send_verification_code = True
    #: Send "no account with this number" when someone asks for a code for an unknown number.
    smsgo_send_unknown_account = True
    #: Send "an account with this number exists" when someone signs up with a known number.
    smsgo_send_account_already_exists = True

    smsgo_templates = {
        "code": "django_smsgo/allauth/verification_code.txt",
        "unknown": "django_smsgo/allauth/unknown_account.txt",
        "exists": "django_smsgo/allauth/account_already_exists.txt",
    }

    def clean_phone(self, phone: str) -> str:
        """Refuse a number the gateway cannot text (a landline, a short number), in words."""
        from django import forms

        from django_smsgo.exceptions import InvalidNumberError

        phone = super().clean_phone(phone)  # type: ignore[misc]
        try:
            gateway_number(phone)
        except InvalidNumberError as error:
            raise forms.ValidationError(error.invalid[0][1], code="invalid_phone") from None
        return phone

    def send_verification_code_sms(
        self, user: Any, phone: str, code: str, **kwargs: Any
    ) -> Message | None:
        """Send ``code`` to ``phone``: transactional, high priority, dropped once it expired."""
        if not self.smsgo_send_verification_code:
            return None
        from allauth.account import app_settings

        # Login by code passes ``reauthentication``; phone verification passes nothing.
        timeout = (
            app_settings.LOGIN_BY_CODE_TIMEOUT
            if "reauthentication" in kwargs
            else app_settings.PHONE_VERIFICATION_TIMEOUT
        )
        context = {"code": code, "user": user, "minutes": max(1, int(timeout) // 60), **kwargs}
        return self.smsgo_send(phone, "code", context, expires_in=int(timeout))

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> Message | None:
        """Tell ``phone`` that no account uses it (allauth's enumeration prevention)."""
        if not self.smsgo_send_unknown_account:
            return None
        return self.smsgo_send(phone, "unknown", dict(kwargs))

    def send_account_already_exists_sms(self, phone: str, **kwargs: Any) -> Message | None:
        """Tell ``phone`` that an account already uses it (someone tried to sign up with it)."""
        if not self.smsgo_send_account_already_exists:
            return None
        return self.smsgo_send(phone, "exists", dict(kwargs))

    def smsgo_send(
        self, phone: str, text: str, context: dict[str, Any], *, expires_in: int | None = None
    ) -> Message:
        """Render the template ``text`` and send it to ``phone`` as a transactional SMS."""
        from django_smsgo.services.sending import send_sms

        body = render_to_string(self.smsgo_templates[text], {"sender": sender_tag(), **context})
        return send_sms(
            gateway_number(phone),
            body.strip(),
            kind=Message.Kind.TRANSACTIONAL,
            priority=Message.Priority.HIGH,
            expires_at=timezone.now() + timedelta(seconds=expires_in) if expires_in else None,
            allow_duplicate=True,
        )

"""The account adapter of the allauth tests: smsgo's texts plus the four storage methods.

A project keeps the phone in a model of its own (see docs/integrations.rst);
here the user's ``first_name`` holds it and ``last_name`` says "verified", so
the tests need no model.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth import get_user_model

from django_smsgo.integrations.allauth import SmsgoPhoneAdapterMixin


class PhoneAccountAdapter(SmsgoPhoneAdapterMixin, DefaultAccountAdapter):
    def set_phone(self, user: Any, phone: str, verified: bool) -> None:
        user.first_name, user.last_name = phone, "verified" if verified else ""
        user.save(update_fields=["first_name", "last_name"])

    def get_phone(self, user: Any) -> tuple[str, bool] | None:
        if not user.first_name:
            return None
        return user.first_name, user.last_name == "verified"

    def set_phone_verified(self, user: Any, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str) -> Any:
        return get_user_model().objects.filter(first_name=phone).order_by("pk").first()

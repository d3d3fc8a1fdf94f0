"""Permission classes mapping API actions to the app's model permissions.

Reading needs ``view_message`` or ``send_sms`` (a sender may follow the
messages they sent; which ones is the queryset hook's decision), sending
(personalised too) and estimating need ``send_sms``, cancelling needs
``cancel_sms``, and the balance needs ``view_balancesnapshot`` or ``send_sms``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

SEND = "django_smsgo.send_sms"
CANCEL = "django_smsgo.cancel_sms"
VIEW_MESSAGE = "django_smsgo.view_message"
VIEW_BALANCE = "django_smsgo.view_balancesnapshot"


def _has_any(user: Any, perms: tuple[str, ...]) -> bool:
    return bool(user and user.is_authenticated and any(user.has_perm(p) for p in perms))


class MessagePermission(BasePermission):
    """The permission each action of :class:`~django_smsgo.api.views.MessageViewSet` needs."""

    required: dict[str, tuple[str, ...]] = {
        "list": (VIEW_MESSAGE, SEND),
        "retrieve": (VIEW_MESSAGE, SEND),
        "recipients": (VIEW_MESSAGE, SEND),
        "create": (SEND,),
        "personalised": (SEND,),
        "estimate": (SEND,),
        "cancel": (CANCEL,),
    }

    def has_permission(self, request: Any, view: Any) -> bool:
        perms = self.required.get(getattr(view, "action", None) or "")
        if perms is None:
            # An action nobody mapped is refused rather than left open.
            return False
        return _has_any(request.user, perms)


class BalancePermission(BasePermission):
    """Reading the balance: ``view_balancesnapshot`` or ``send_sms``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return _has_any(request.user, (VIEW_BALANCE, SEND))

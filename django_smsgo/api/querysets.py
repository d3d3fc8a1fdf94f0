"""Which messages a user may see through the API.

The default rule: staff members with the ``view_message`` permission see every
message; everyone else sees the messages they created. A project replaces the
rule with the ``API_MESSAGE_QUERYSET`` setting, a dotted path to a callable
``(request) -> QuerySet[Message]``, or by overriding
:meth:`django_smsgo.api.views.MessageViewSet.get_message_queryset`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.module_loading import import_string

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import Message

MessageQuerysetHook = Callable[[Any], "QuerySet[Message]"]


def default_message_queryset(request: Any) -> QuerySet[Message]:
    """Every message for staff with ``view_message``; otherwise the user's own."""
    user = request.user
    messages = Message.objects.all()
    if user.is_staff and user.has_perm("django_smsgo.view_message"):
        return messages
    if not user.is_authenticated:
        return messages.none()
    return messages.filter(created_by=user)


def message_queryset_hook() -> MessageQuerysetHook:
    """The configured visibility rule (``API_MESSAGE_QUERYSET``) or the default."""
    configured = smsgo_settings.API_MESSAGE_QUERYSET
    if not configured:
        return default_message_queryset
    if callable(configured):
        return configured
    hook: MessageQuerysetHook = import_string(configured)
    return hook

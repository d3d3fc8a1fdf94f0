"""What the console's pages and actions need of the message admin, as a type.

``actions`` and ``views`` are called by :class:`~django_smsgo.admin.messages.MessageAdmin`
and ask it for its permissions, its site and its messages to the user. Typing
them against this protocol instead of the class keeps the imports one way
(messages → actions, views), with no circle even for the type checker.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.contrib.admin import AdminSite
from django.db.models.options import Options
from django.forms.widgets import Media
from django.http import HttpRequest


class ConsoleAdmin(Protocol):
    """The message admin as its pages and actions see it."""

    opts: Options[Any]
    admin_site: AdminSite

    @property
    def media(self) -> Media: ...

    def has_add_permission(self, request: HttpRequest) -> bool: ...

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool: ...

    def has_send_permission(self, request: HttpRequest) -> bool: ...

    def has_cancel_permission(self, request: HttpRequest) -> bool: ...

    def message_user(
        self,
        request: HttpRequest,
        message: str,
        level: int | str = ...,
        extra_tags: str = ...,
        fail_silently: bool = ...,
    ) -> None: ...

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any: ...

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any: ...

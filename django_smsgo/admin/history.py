"""Who composed, sent, cancelled and resent a message: the admin's history (LogEntry).

Composing logs an addition (``views.after_save``). The send, cancel and
resend actions are wrapped by :func:`logged`, which compares the selected
messages before and after the action ran and logs, through the
``ModelAdmin.log_*`` helpers, what really happened: a message that did not
move (refused, or sent by an earlier click) gets no entry.

Each entry's ``change_message`` is Django's JSON list, so the stock history
pages read it ("Changed status."); an ``smsgo`` item beside it says what the
event was, and :func:`describe` words it in the reader's language for the
message page and the message's history page.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import ADDITION, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_smsgo.models import Message

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _Base = ModelAdmin[Message]
else:
    _Base = object

Action = Callable[[Any, HttpRequest, QuerySet[Message]], HttpResponse | None]

SENT = "sent"
CANCELLED = "cancelled"
RESENT = "resent"
RESEND_OF = "resend_of"
#: Entries shown on a message's page.
SHOWN = 20


def event(name: str, **data: Any) -> list[dict[str, Any]]:
    """A ``change_message`` for event ``name``: Django's own item and ours."""
    return [{"changed": {"fields": ["status"]}}, {"smsgo": {"event": name, **data}}]


def logged(action: Action) -> Action:
    """``action``, logging in the admin's history every message it sent, cancelled or resent."""

    @functools.wraps(action)
    def run(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Message]) -> Any:
        if not (request.method == "POST" and request.POST.get("post") == "yes"):
            return action(modeladmin, request, queryset)  # the confirmation page only
        before = dict(queryset.values_list("pk", "status"))
        started = timezone.now()
        response = action(modeladmin, request, queryset)
        record(modeladmin, request, before, started)
        return response

    return run


def record(modeladmin: Any, request: HttpRequest, before: dict[int, str], started: Any) -> None:
    """Log what became of the messages whose statuses were ``before`` the action."""
    moved = Message.objects.filter(pk__in=list(before)).only(
        "pk", "status", "body", "recipient_count"
    )
    for message in moved:
        was = before[message.pk]
        if was == message.status:
            continue
        if message.status == Message.Status.CANCELLED:
            modeladmin.log_change(request, message, event(CANCELLED))
        elif was in (Message.Status.DRAFT, Message.Status.QUEUED):
            modeladmin.log_change(request, message, event(SENT, recipients=message.recipient_count))
    resends = Message.objects.filter(
        resend_of__in=list(before), created_at__gte=started, created_by_id=request.user.pk
    ).order_by("pk")
    for resend in resends.select_related("resend_of"):
        modeladmin.log_change(
            request,
            resend.resend_of,
            event(RESENT, recipients=resend.recipient_count, message=resend.pk),
        )
        modeladmin.log_addition(
            request,
            resend,
            [{"added": {}}, {"smsgo": {"event": RESEND_OF, "message": resend.resend_of_id}}],
        )


def ours(entry: LogEntry) -> dict[str, Any]:
    """The ``smsgo`` item of ``entry``'s change message ({} when it has none)."""
    text = entry.change_message or ""
    if not text.startswith("["):
        return {}
    try:
        items = json.loads(text)
    except ValueError:
        return {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("smsgo"), dict):
            return dict(item["smsgo"])
    return {}


def describe(entry: LogEntry) -> str:
    """What ``entry`` records, in the active language."""
    data = ours(entry)
    name = data.get("event")
    if name == SENT:
        count = int(data.get("recipients") or 0)
        return ngettext("Sent to %(count)d recipient", "Sent to %(count)d recipients", count) % {
            "count": count
        }
    if name == CANCELLED:
        return _("Cancelled")
    if name == RESENT:
        count = int(data.get("recipients") or 0)
        return ngettext(
            "Resent to %(count)d recipient as message #%(id)s",
            "Resent to %(count)d recipients as message #%(id)s",
            count,
        ) % {"count": count, "id": data.get("message")}
    if name == RESEND_OF:
        return _("Composed as a resend of message #%(id)s") % {"id": data.get("message")}
    if entry.action_flag == ADDITION:
        return _("Composed")
    return entry.get_change_message()


class HistoryEntry:
    """An entry as the message page shows it."""

    def __init__(self, entry: LogEntry) -> None:
        self.entry = entry
        self.action_time = entry.action_time
        self.user = entry.user
        self.text = describe(entry)


def entries(message: Message, limit: int = SHOWN) -> list[HistoryEntry]:
    """The newest ``limit`` history entries of ``message`` (one query)."""
    opts = Message._meta
    found = (
        LogEntry.objects.filter(
            # Joined, not looked up first: the same queries on the first page as on the next.
            content_type__app_label=opts.app_label,
            content_type__model=opts.model_name,
            object_id=str(message.pk),
        )
        .select_related("user")
        .order_by("-action_time", "-pk")[:limit]
    )
    return [HistoryEntry(e) for e in found]


class HistoryAdminMixin(_Base):
    """The message's history page, with each entry in words."""

    object_history_template = "admin/django_smsgo/message/object_history.html"

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        context = getattr(response, "context_data", None)
        if context and context.get("action_list") is not None:
            listed = context["action_list"]
            listed.object_list = list(listed.object_list)  # worded once, shown as worded
            for entry in listed.object_list:
                entry.smsgo_text = describe(entry)
        return response

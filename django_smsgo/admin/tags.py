"""The change list's filter by tag: the tags of recent messages, each one click away."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from django_smsgo.models import Message

#: How many recent messages the offered tags are read from (the list stays cheap).
RECENT_MESSAGES = 1000


class TagFilter(admin.SimpleListFilter):
    """``?tag=<tag>``: the messages carrying that tag (``Message.objects.tagged``)."""

    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        recent = Message.objects.order_by("-pk").values_list("tags", flat=True)[:RECENT_MESSAGES]
        found: dict[str, None] = {}
        for tags in recent:
            for tag in tags or ():
                if isinstance(tag, str):
                    found[tag] = None
        return [(tag, tag) for tag in sorted(found)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not hasattr(queryset, "tagged"):
            queryset = Message.objects.filter(pk__in=queryset.values("pk"))
        return queryset.tagged(value)

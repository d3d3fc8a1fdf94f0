"""A project-defined visibility rule, for the API_MESSAGE_QUERYSET setting test."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from django_smsgo.models import Message


def high_priority_only(request: Any) -> QuerySet[Message]:
    return Message.objects.filter(priority=Message.Priority.HIGH)

"""Query-string filters for the message list: status, creation date range, number."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from django_smsgo.client.numbers import normalize_number
from django_smsgo.models import Message, Recipient

_M = TypeVar("_M", bound=Model)
_R = TypeVar("_R")

STATUS_PARAM = "status"
CREATED_AFTER_PARAM = "created_after"
CREATED_BEFORE_PARAM = "created_before"
PHONE_PARAM = "phone"
TAG_PARAM = "tag"
METADATA_PARAM = "metadata"
_METADATA_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
EXAMPLE_MOMENT = "2025-01-31T08:00:00+08:00"


def parse_moment(name: str, value: str) -> dt.datetime:
    """An aware datetime from an ISO 8601 date or datetime.

    A date means midnight at its start and a datetime without an offset is
    read in the project's time zone. Raises ``ValidationError`` naming the
    parameter and the value otherwise.
    """
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise ValueError(value)
            moment = dt.datetime.combine(day, dt.time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        # Converting to UTC here surfaces an out-of-range moment as a 400
        # instead of an overflow inside the database driver.
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValidationError(
            {name: [f"{value!r} is not an ISO 8601 date or date-time, e.g. {EXAMPLE_MOMENT}."]}
        ) from None


def single(params: Any, name: str) -> str:
    """The one value of a query parameter that must not be repeated."""
    values = params.getlist(name)
    if len(values) != 1:
        raise ValidationError({name: [f"Give {name} once."]})
    return str(values[0])


def parse_statuses(values: list[str]) -> list[str]:
    """Message statuses from repeated and/or comma-separated values, each checked."""
    allowed = set(Message.Status.values)
    statuses = [part.strip() for value in values for part in value.split(",")]
    unknown = [status for status in statuses if status not in allowed]
    if unknown:
        raise ValidationError(
            {
                STATUS_PARAM: [
                    f"{status!r} is not a message status; choose from "
                    f"{', '.join(Message.Status.values)}."
                    for status in unknown
                ]
            }
        )
    return statuses


def parse_phone(value: str) -> str:
    """The phone filter normalised the way numbers are stored."""
    try:
        return normalize_number(value)
    except ValueError as exc:
        raise ValidationError({PHONE_PARAM: [str(exc)]}) from None


class MessageFilterBackend(BaseFilterBackend):
    """Filters ``?status=``, ``?created_after=``, ``?created_before=`` and ``?phone=``.

    ``created_after`` is inclusive, ``created_before`` exclusive; ``phone``
    keeps the messages with a recipient of that number.
    """

    def filter_queryset(
        self, request: Any, queryset: QuerySet[_M, _R], view: Any
    ) -> QuerySet[_M, _R]:
        params = request.query_params
        if STATUS_PARAM in params:
            queryset = queryset.filter(status__in=parse_statuses(params.getlist(STATUS_PARAM)))
        if CREATED_AFTER_PARAM in params:
            after = parse_moment(CREATED_AFTER_PARAM, single(params, CREATED_AFTER_PARAM))
            queryset = queryset.filter(created_at__gte=after)
        if CREATED_BEFORE_PARAM in params:
            before = parse_moment(CREATED_BEFORE_PARAM, single(params, CREATED_BEFORE_PARAM))
            queryset = queryset.filter(created_at__lt=before)
        if PHONE_PARAM in params:
            phone = parse_phone(single(params, PHONE_PARAM))
            # EXISTS rather than a join: a message never appears twice in the list.
            queryset = queryset.filter(
                Exists(Recipient.objects.filter(message=OuterRef("pk"), phone=phone))
            )
        if TAG_PARAM in params:
            queryset = with_tag(queryset, single(params, TAG_PARAM))
        for value in params.getlist(METADATA_PARAM):
            queryset = queryset.filter(metadata_lookup(value))
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """The filters as OpenAPI 3 query parameters."""
        moment = {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ]
        }
        return [
            {
                "name": STATUS_PARAM,
                "in": "query",
                "required": False,
                "description": "Only messages in these statuses (repeat the parameter or "
                "separate with commas).",
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": Message.Status.values},
                },
                "style": "form",
                "explode": True,
            },
            {
                "name": CREATED_AFTER_PARAM,
                "in": "query",
                "required": False,
                "description": "Created at or after this moment (ISO 8601 date or date-time).",
                "schema": moment,
            },
            {
                "name": CREATED_BEFORE_PARAM,
                "in": "query",
                "required": False,
                "description": "Created before this moment (ISO 8601 date or date-time).",
                "schema": moment,
            },
            {
                "name": PHONE_PARAM,
                "in": "query",
                "required": False,
                "description": "Only messages sent to this number (any common written form).",
                "schema": {"type": "string"},
            },
            {
                "name": TAG_PARAM,
                "in": "query",
                "required": False,
                "description": "Only messages carrying this tag.",
                "schema": {"type": "string"},
            },
            {
                "name": METADATA_PARAM,
                "in": "query",
                "required": False,
                "description": "key:value, only messages whose metadata has that value under "
                "that key (repeat for several).",
                "schema": {"type": "array", "items": {"type": "string"}},
                "style": "form",
                "explode": True,
            },
        ]


def metadata_lookup(value: str) -> Q:
    """``key:value`` as a filter on ``metadata``; the value matches text, or a number it spells."""
    key, sep, wanted = value.partition(":")
    if not sep or not _METADATA_KEY.fullmatch(key):
        raise ValidationError(
            {METADATA_PARAM: [f"{value!r} is not key:value with a key of letters, digits, _ or -."]}
        )
    # "__exact" makes the key a key even when it spells a lookup ("contains").
    lookup = Q(**{f"metadata__{key}__exact": wanted})
    if re.fullmatch(r"-?\d{1,18}", wanted):
        lookup |= Q(**{f"metadata__{key}__exact": int(wanted)})
    return lookup


def with_tag(queryset: QuerySet[_M, _R], tag: str) -> QuerySet[_M, _R]:
    """The messages of ``queryset`` carrying ``tag``."""
    tagged = getattr(queryset, "tagged", None)
    if tagged is None:
        return queryset.filter(pk__in=Message.objects.tagged(tag).values("pk"))
    result: QuerySet[_M, _R] = tagged(tag)
    return result

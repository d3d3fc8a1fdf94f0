"""Cursor pagination: stable pages however many rows are added meanwhile."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class StrictCursorPagination(CursorPagination):
    """Cursor pagination that refuses a malformed ``page_size`` instead of ignoring it.

    A size above the maximum is lowered to the maximum, as DRF does.
    """

    def get_page_size(self, request: Any) -> int | None:
        assert self.page_size_query_param is not None
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        name = self.page_size_query_param
        if len(values) > 1:
            raise ValidationError({name: ["Give page_size once."]})
        value = values[0]
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise ValidationError({name: [f"{value!r} is not a whole number of at least 1."]})
        size = int(value)
        return min(size, self.max_page_size) if self.max_page_size else size


class MessageCursorPagination(StrictCursorPagination):
    """Messages, newest first (by id, unique, so pages never skip or repeat a row)."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class RecipientCursorPagination(StrictCursorPagination):
    """Recipients of one message, in the order they were added."""

    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

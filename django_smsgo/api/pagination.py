"""Cursor pagination: stable pages however many rows are added meanwhile."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class MessageCursorPagination(CursorPagination):
    """Messages, newest first (by id, unique, so pages never skip or repeat a row)."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class RecipientCursorPagination(CursorPagination):
    """Recipients of one message, in the order they were added."""

    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

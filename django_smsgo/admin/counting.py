"""Lists that never count a whole table: the delivery reports and the replies.

Django's change list counts its rows twice, the whole table (``N total``)
and the filtered rows; on an account with millions of reports each count
reads every row. Here the whole table is counted only up to
:data:`COUNTED_UP_TO` rows: beyond that the list says "more than 10,000"
and pages through the first 10,000 (a date filter or the column ordering
reaches the others). A filtered or searched list is counted exactly, in
the indexes its filter uses.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

#: Rows of a whole table the list counts; above, it says "more than".
COUNTED_UP_TO = 10_000


class TableCountPaginator(Paginator):
    """A paginator that counts an unfiltered queryset only up to :data:`COUNTED_UP_TO`."""

    #: Whether the count stopped at :data:`COUNTED_UP_TO` (there are more rows).
    capped = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet) or rows.query.has_filters():
            return super().count
        # Unordered: the first rows any scan finds, not the first in the list's order.
        counted = rows.order_by()[: COUNTED_UP_TO + 1].count()
        if counted > COUNTED_UP_TO:
            self.capped = True
            return COUNTED_UP_TO
        return counted


class BoundedCountMixin:
    """For a read-only log's admin: no ``N total`` count, the table counted up to a bound."""

    # "99 results (Show all)" on a search, not "(1,000,000 total)": a count of the table.
    show_full_result_count = False

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        return TableCountPaginator(queryset, per_page, orphans, allow_empty_first_page)

"""The send log (發送紀錄): every recipient of every message, newest first, filtered and paged.

The admin's send log page and its exports read it through these functions.
Whatever the size of the table, a page costs the same few queries: pages are
found by key (``pk`` below or above the edge of the page shown), never by
``OFFSET``, and no page counts the whole table. How many rows match is counted
only up to :data:`COUNT_CAP` (a ``COUNT`` over a ``LIMIT``-ed subquery), so a
million recipients cost no more than ten thousand.

The texts of one-time codes (:mod:`django_smsgo.codes`) are withheld: the code
in them is a secret, and the log and its exports are read far from the moment
the code was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet, Value
from django.db.models.fields import BooleanField
from django.utils import timezone

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import Recipient

#: The gateway's clock: the log's days are Taiwan days.
TAIPEI = ZoneInfo("Asia/Taipei")
#: Rows on a page of the log.
PAGE_SIZE = 50
#: Matches are counted up to this many; beyond it the log says "more than".
COUNT_CAP = 10_000
#: Rows read from the database at a time by an export.
EXPORT_CHUNK = 2_000


@dataclass(frozen=True)
class LogFilter:
    """What the send log is narrowed to; every field empty means everything.

    ``phone`` is a full number (normalised, matched exactly; while
    ``OVERRIDE_RECIPIENTS`` is set, also as the intended number) or a run of digits found
    anywhere in the number (``partial``). ``since`` and ``until`` are Taiwan
    days, both included, of the time the recipient was stored.
    """

    phone: str = ""
    partial: bool = False
    status: str = ""
    sender: int | None = None
    since: date | None = None
    until: date | None = None
    message: int | None = None


def start_of(day: date) -> datetime:
    """Midnight of ``day`` in Taiwan, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=TAIPEI)


#: Texts the log and its exports withhold, from apps built on this one (the
#: one-time codes register theirs), so this module never imports them. Each
#: provider returns an expression over a recipient row: is its text withheld?
WithheldProvider = Callable[[], Any]
_withheld: list[WithheldProvider] = []


def register_withheld(provider: WithheldProvider) -> None:
    """Withhold the texts ``provider``'s expression marks (once per provider)."""
    if provider not in _withheld:
        _withheld.append(provider)


def recipients(log_filter: LogFilter) -> QuerySet[Recipient]:
    """The recipients ``log_filter`` selects, newest first, with what a row shows.

    Each row has ``is_code`` (True for the text of a one-time code, which the
    readers withhold) and its message, the message's author and its batch.
    """
    rows = Recipient.objects.all()
    if log_filter.message is not None:
        rows = rows.filter(message_id=log_filter.message)
    if log_filter.phone:
        if log_filter.partial:
            rows = rows.filter(
                Q(phone__contains=log_filter.phone) | Q(intended_phone__contains=log_filter.phone)
            )
        elif smsgo_settings.OVERRIDE_RECIPIENTS:
            # Staging: the rows went to the override numbers; staff look for the intended ones.
            rows = rows.filter(Q(phone=log_filter.phone) | Q(intended_phone=log_filter.phone))
        else:
            # ``intended_phone`` has no index and is empty without the override: the
            # number's own index (smsgo_rcpt_phone_created) answers alone.
            rows = rows.filter(phone=log_filter.phone)
    if log_filter.status:
        rows = rows.filter(status=log_filter.status)
    if log_filter.sender is not None:
        rows = rows.filter(message__created_by_id=log_filter.sender)
    if log_filter.since is not None:
        rows = rows.filter(created_at__gte=start_of(log_filter.since))
    if log_filter.until is not None:
        rows = rows.filter(created_at__lt=start_of(log_filter.until + timedelta(days=1)))
    return rows.annotate(is_code=is_code_text()).order_by("-pk")


def is_code_text() -> Any:
    """An expression: is the recipient's text one that readers withhold (a one-time code's)?"""
    expressions = [provider() for provider in _withheld]
    if not expressions:
        return Value(False, output_field=BooleanField())
    withheld = expressions[0]
    for expression in expressions[1:]:
        withheld = withheld | expression
    return withheld


@dataclass
class LogPage:
    """One page of the log: its rows and the keys of the pages either side (None at an end)."""

    rows: list[Recipient]
    newer: int | None
    older: int | None

    @property
    def first(self) -> bool:
        """Whether this is the newest page."""
        return self.newer is None


def page(
    rows: QuerySet[Recipient],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> LogPage:
    """The page of ``rows`` (newest first) just older than ``before`` or just newer than ``after``.

    One query whatever the table's size: ``size + 1`` rows are read to know
    whether a page follows. With neither key, the newest page.
    """
    related = rows.select_related("message", "message__created_by", "batch")
    if after is not None:
        found = list(related.filter(pk__gt=after).order_by("pk")[: size + 1])
        has_newer = len(found) > size
        found = list(reversed(found[:size]))
        has_older = True  # ``after`` itself is older
    else:
        if before is not None:
            related = related.filter(pk__lt=before)
        found = list(related[: size + 1])
        has_older = len(found) > size
        found = found[:size]
        has_newer = before is not None
    if not found:
        return LogPage([], None, None)
    return LogPage(
        found,
        newer=found[0].pk if has_newer else None,
        older=found[-1].pk if has_older else None,
    )


def matching(rows: QuerySet[Recipient], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows match, counted up to ``cap``: (count, True when there are more)."""
    counted = rows.order_by().values("pk")[: cap + 1].count()
    return min(counted, cap), counted > cap


#: The columns of an export, in order (the readers put the headings on them).
EXPORT_FIELDS = (
    "message_id",
    "phone",
    "intended_phone",
    "message__body",
    "status",
    "gateway_status",
    "reason_code",
    "reason_params",
    "submitted_at",
    "final_at",
    "message__created_by__username",
    "batch__msgid",
    "is_code",
)


@dataclass(frozen=True)
class ExportRow:
    """One recipient as an export writes it (times aware, the text '' when withheld)."""

    message_id: int
    phone: str
    text: str
    withheld: bool
    status: str
    gateway_status: str
    reason_code: str
    reason_params: dict[str, Any]
    submitted_at: datetime | None
    final_at: datetime | None
    sender: str
    msgid: str


def export_rows(rows: QuerySet[Recipient]) -> Iterator[ExportRow]:
    """Every row of ``rows``, read ``EXPORT_CHUNK`` at a time (never all in memory at once).

    Plain tuples from the database, no model instances; on PostgreSQL a
    server-side cursor.
    """
    values = rows.values_list(*EXPORT_FIELDS)
    for (
        message_id,
        phone,
        intended,
        body,
        status,
        gateway_status,
        reason_code,
        reason_params,
        submitted_at,
        final_at,
        sender,
        msgid,
        is_code,
    ) in values.iterator(chunk_size=EXPORT_CHUNK):
        yield ExportRow(
            message_id=message_id,
            phone=intended or phone,
            text="" if is_code else body,
            withheld=bool(is_code),
            status=status,
            gateway_status=gateway_status,
            reason_code=reason_code,
            reason_params=reason_params or {},
            submitted_at=submitted_at,
            final_at=final_at,
            sender=sender or "",
            msgid=msgid or "",
        )


def taipei(moment: datetime | None) -> str:
    """``moment`` in Taiwan time as ``YYYY-MM-DD HH:MM:SS`` ('' for None)."""
    if moment is None:
        return ""
    return timezone.localtime(moment, TAIPEI).strftime("%Y-%m-%d %H:%M:%S")

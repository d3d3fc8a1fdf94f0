"""How many of a message's recipients are in each status, read from their tallies.

The database keeps the figures (:class:`~django_smsgo.models.RecipientTally`,
written by the triggers of migration ``0012``): reading them costs a few rows
however many recipients a message has, where counting the recipients of a
message of 100,000 reads 100,000 rows.

On PostgreSQL every statement that moves recipients adds rows and none is
ever updated, so concurrent reports of one message never queue on a shared
row. A read that finds more than :data:`FOLD_AT` rows for a message folds
them into one per status, in one statement, and so does every sweep for the
messages still in flight (:func:`fold_active`): a message nobody reads piles up
rows for one sweep's interval at most. On SQLite the triggers keep one row per
status. Other databases have no triggers: there the recipients are counted.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Sum

from django_smsgo.models import (
    MESSAGE_TRANSITIONS,
    Message,
    Recipient,
    RecipientTally,
    open_statuses,
)

#: A message's tally rows beyond which a read folds them.
FOLD_AT = 64

TALLY = RecipientTally._meta.db_table

# Each row is taken once: a fold that finds rows another one holds leaves
# them to it, so two pages read at once neither wait nor count twice.
FOLD = f"""
    WITH taken AS (
        DELETE FROM {TALLY} WHERE id IN (
            SELECT id FROM {TALLY} WHERE message_id = ANY(%s) FOR UPDATE SKIP LOCKED
        )
        RETURNING message_id, status, change
    )
    INSERT INTO {TALLY} (message_id, status, change)
    SELECT message_id, status, sum(change) FROM taken
    GROUP BY message_id, status
    HAVING sum(change) <> 0
"""  # noqa: S608 - the table's name, no input


def kept() -> bool:
    """Whether this database's triggers keep the tallies (migration ``0012``)."""
    return connection.vendor in ("postgresql", "sqlite")


def status_counts(message_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """For each message, how many of its recipients are in each status (none left out)."""
    ids = list(message_ids)
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    if not ids:
        return counts
    if not kept():
        rows = (
            Recipient.objects.filter(message_id__in=ids)
            .values_list("message_id", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for message_id, status, n in rows:
            counts[message_id][status] = n
        return counts
    tally_rows = (
        RecipientTally.objects.filter(message_id__in=ids)
        .values_list("message_id", "status")
        .annotate(n=Sum("change"), rows=Count("pk"))
        .order_by()
    )
    rows_of: dict[int, int] = dict.fromkeys(ids, 0)
    for message_id, status, n, rows in tally_rows:
        if n:
            counts[message_id][status] = n
        rows_of[message_id] += rows
    crowded = [pk for pk, rows in rows_of.items() if rows > FOLD_AT]
    if crowded:
        fold(crowded)
    return counts


def fold_active() -> int:
    """Fold the crowded tallies of the messages still in flight; return how many messages.

    Only those can gain rows (a settled message's recipients are final), so a
    sweep reads the tallies of the messages in flight, not of every message
    ever sent.
    """
    if connection.vendor != "postgresql":
        return 0
    in_flight = Message.objects.filter(status__in=open_statuses(MESSAGE_TRANSITIONS))
    crowded = list(
        RecipientTally.objects.filter(message__in=in_flight)
        .values("message_id")
        .annotate(rows=Count("pk"))
        .filter(rows__gt=FOLD_AT)
        .values_list("message_id", flat=True)
    )
    if crowded:
        fold(crowded)
    return len(crowded)


def fold(message_ids: list[int]) -> None:
    """Replace each message's tally rows by one per status (PostgreSQL; SQLite keeps one)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FOLD, [message_ids])

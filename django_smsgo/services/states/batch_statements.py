"""PostgreSQL's claim and record of a batch, one statement each.

The same moves as the ORM path of :mod:`~django_smsgo.services.states.batch`,
in one round trip each instead of five or six, which is most of what dispatch
costs beside the gateway's own time:

* **claim**: pick the next unclaimed recipients of a message after the last
  one this run claimed (``FOR UPDATE SKIP LOCKED``, in id order, so the index
  on (message, status, id) is read from where the run stands, however large
  the message), insert the batch, attach the recipients; the numbers come
  back with it. Claims of one message take turns (an advisory lock per
  message, held until the claim commits): two tasks racing on a message would
  otherwise pick alternate rows past each other's locks and split 60
  recipients into three or four requests instead of two;
* **record** an accepted request: the batch ``submitted`` (only from a state
  that may move there), its recipients ``submitted``, the message's points
  and heartbeat. (Reports that came before the answer are looked for after it,
  in a statement of their own: it must see what committed while this one
  waited for the batch's row.)

Each runs in autocommit: when it returns, it is committed. Every name and
literal in the SQL comes from the models; values are parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import DatabaseError, connection

from django_smsgo.client import SendResult
from django_smsgo.models import BATCH_TRANSITIONS, Batch, DeliveryReport, Message, Recipient
from django_smsgo.services import locks
from django_smsgo.services.states import prepared, sources_of
from django_smsgo.services.states.prepared import column, literal, quoted

B = Batch.State
R = Recipient.Status


def supported() -> bool:
    """Whether the default database takes these statements."""
    return connection.vendor == "postgresql"


def claim(
    message_id: int, *, after: int, size: int, now: datetime, lease_expires_at: datetime
) -> tuple[int, list[tuple[int, str]]] | None:
    """Claim up to ``size`` unclaimed recipients with an id above ``after``.

    Returns the new batch's id and its ``(recipient id, phone)`` pairs in id
    order, or None when there is nothing left to claim after ``after``.
    """
    params: dict[str, Any] = {
        "message": message_id,
        "after": after,
        "size": size,
        "now": now,
        "lease": lease_expires_at,
        "params": "{}",
        "turn": locks.lock_id(f"claim:{message_id}"),
    }
    rows = prepared.run(connection, _claim(), params, fetch="all")
    if not rows:
        return None
    rows.sort()
    return rows[0][2], [(pk, phone) for pk, phone, _ in rows]


def submit(
    batch_id: int, recipient_ids: Sequence[int], answer: SendResult, *, now: datetime
) -> tuple[bool, bool]:
    """Record an accepted request: whether it was recorded, and whether reports wait for it.

    Not recorded (False): the batch had moved on, nothing changed. The look for
    reports that came before the answer is a statement of its own, sent in the
    same round trip (psycopg's pipeline): it runs once the record has its
    batch row, so it sees a report whose callback held that row meanwhile.
    """
    params: dict[str, Any] = {
        "batch": batch_id,
        "ids": list(recipient_ids),
        "msgid": answer.msgid,
        "points": answer.points or 0,
        "api_url": answer.api_url,
        "statuscode": answer.statuscode,
        "statusstr": answer.statusstr[:200],
        "now": now,
        "params": "{}",
    }
    probe: dict[str, Any] = {"batch": batch_id, "msgid": answer.msgid}
    connection.ensure_connection()
    if connection.in_atomic_block or not _pipeline_supported():
        (recorded,) = prepared.run(connection, _submit(), params, fetch="one")
        return bool(recorded), _reports_wait(probe)
    try:
        with connection.connection.pipeline(), connection.cursor() as cursor:
            prepared.prepare_in_session(connection, cursor, _submit())
            cursor.execute(_submit().execute, params)
            with connection.cursor() as look:
                look.execute(_pending_reports(), probe)
                (recorded,) = cursor.fetchone()
                (waiting,) = look.fetchone()
        return bool(recorded), bool(waiting)
    except DatabaseError as exc:
        if not prepared.lost(exc):
            raise
        # The session lost the prepared statement: nothing of the round trip
        # was kept (one implicit transaction). Once more, one at a time.
        prepared.forget(connection, _submit())
        (recorded,) = prepared.run(connection, _submit(), params, fetch="one")
        return bool(recorded), _reports_wait(probe)


def _reports_wait(probe: dict[str, Any]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_pending_reports(), probe)
        (waiting,) = cursor.fetchone()
    return bool(waiting)


@cache
def _pipeline_supported() -> bool:
    """psycopg 3 on a libpq with pipeline mode (psycopg2 sends one statement after the other)."""
    try:
        import psycopg
    except ImportError:
        return False
    return bool(psycopg.Pipeline.is_supported())


@cache
def _claim() -> prepared.Statement:
    recipients, batches = (
        quoted(Recipient._meta.db_table),
        quoted(Batch._meta.db_table),
    )
    r_id, r_phone = column(Recipient, "id"), column(Recipient, "phone")
    r_batch, r_status = column(Recipient, "batch"), column(Recipient, "status")
    r_message = column(Recipient, "message")
    b_id = column(Batch, "id")
    # Every column of a new batch, with the value it starts with.
    start = {
        "message": "%(message)s::bigint",
        "state": literal(B.CLAIMED),
        "msgid": "''",
        "api_url": "''",
        "statusstr": "''",
        "reason_code": "''",
        "reason_params": "%(params)s::jsonb",
        "claimed_at": "%(now)s::timestamptz",
        "lease_expires_at": "%(lease)s::timestamptz",
    }
    columns = ", ".join(column(Batch, name) for name in start)
    values = ", ".join(start.values())
    sql = f"""
        WITH turn AS MATERIALIZED (
            -- Taken before the recipients are read (a one-time filter), held
            -- until the claim commits. A claim that waited here skips the
            -- rows the one before it took: their locked rows are re-checked
            -- against the newest version. An advisory lock, not the message's
            -- row: a claim made ahead stays open while a request travels, and
            -- must not hold up the writes to the message meanwhile.
            SELECT pg_advisory_xact_lock(%(turn)s::bigint)
        ),
        picked AS (
            SELECT {r_id}, {r_phone} FROM {recipients}
            WHERE {r_message} = %(message)s::bigint AND {r_status} = {literal(R.QUEUED)}
              AND {r_batch} IS NULL AND {r_id} > %(after)s::bigint
              AND EXISTS (SELECT 1 FROM turn)
            ORDER BY {r_id}
            LIMIT %(size)s::bigint
            FOR UPDATE SKIP LOCKED
        ),
        batch AS (
            INSERT INTO {batches} ({columns})
            SELECT {values} WHERE EXISTS (SELECT 1 FROM picked)
            RETURNING {b_id}
        )
        UPDATE {recipients} SET {r_batch} = batch.{b_id}
        FROM picked, batch
        WHERE {recipients}.{r_id} = picked.{r_id}
        RETURNING {recipients}.{r_id}, {recipients}.{r_phone}, batch.{b_id}
    """  # noqa: S608
    return prepared.Statement.of(sql, "claim")


@cache
def _submit() -> prepared.Statement:
    # PostgreSQL runs every data-modifying part of a WITH to completion,
    # whether the final SELECT reads it or not.
    batches, recipients = (
        quoted(Batch._meta.db_table),
        quoted(Recipient._meta.db_table),
    )
    messages = quoted(Message._meta.db_table)
    b = {name: column(Batch, name) for name in ("id", "state", "msgid", "message")}
    from_states = ", ".join(literal(s) for s in sources_of(BATCH_TRANSITIONS, B.SUBMITTED))
    r = {name: column(Recipient, name) for name in ("id", "batch", "status")}
    m = {name: column(Message, name) for name in ("id", "points_charged", "submitted_at")}
    sql = f"""
        WITH b AS (
            UPDATE {batches} SET
                {b["state"]} = {literal(B.SUBMITTED)},
                {b["msgid"]} = %(msgid)s::text,
                {column(Batch, "points")} = %(points)s::integer,
                {column(Batch, "api_url")} = %(api_url)s::text,
                {column(Batch, "statuscode")} = %(statuscode)s::integer,
                {column(Batch, "statusstr")} = %(statusstr)s::text,
                {column(Batch, "submitted_at")} = %(now)s::timestamptz,
                {column(Batch, "reason_code")} = '',
                {column(Batch, "reason_params")} = %(params)s::jsonb
            WHERE {b["id"]} = %(batch)s::bigint
              AND ({b["state"]} IN ({from_states})
                   OR ({b["state"]} = {literal(B.SUBMITTED)} AND {b["msgid"]} = %(msgid)s))
            RETURNING {b["id"]}, {b["message"]}
        ),
        r AS (
            UPDATE {recipients} SET
                {r["status"]} = {literal(R.SUBMITTED)},
                {column(Recipient, "submitted_at")} = %(now)s,
                {column(Recipient, "gateway_statuscode")} = %(statuscode)s,
                {column(Recipient, "reason_code")} = '',
                {column(Recipient, "reason_params")} = %(params)s::jsonb,
                {column(Recipient, "updated_at")} = %(now)s
            WHERE {r["id"]} = ANY(%(ids)s::bigint[]) AND {r["batch"]} = %(batch)s::bigint
              AND {r["status"]} IN ({literal(R.QUEUED)}, {literal(R.UNCERTAIN)})
              AND EXISTS (SELECT 1 FROM b)
        ),
        m AS (
            UPDATE {messages} SET
                {m["points_charged"]} = {m["points_charged"]} + %(points)s::integer,
                {column(Message, "dispatch_due_at")} = %(now)s,
                {column(Message, "updated_at")} = %(now)s,
                {m["submitted_at"]} = COALESCE({m["submitted_at"]}, %(now)s)
            WHERE {m["id"]} = (SELECT {b["message"]} FROM b)
        )
        SELECT count(*) FROM b
    """  # noqa: S608
    return prepared.Statement.of(sql, "submit")


@cache
def _pending_reports() -> str:
    reports = quoted(DeliveryReport._meta.db_table)
    batch, msgid = (
        column(DeliveryReport, "batch"),
        column(DeliveryReport, "msgid"),
    )
    outcome = column(DeliveryReport, "outcome")
    return f"""
        SELECT EXISTS (
            SELECT 1 FROM {reports}
            WHERE {outcome} = {literal(DeliveryReport.Outcome.PENDING)}
              AND ({batch} = %(batch)s::bigint
                   OR ({batch} IS NULL AND {msgid} = %(msgid)s::text AND %(msgid)s::text <> ''))
        )
    """  # noqa: S608

"""One writer at a time for a guard that reads before it writes.

A check-then-insert guard (the duplicate guard, a budget cap) is only a guard
if two transactions checking the same thing cannot both pass before either
has written. :func:`serialise` makes the transactions that call it with the
same key run one after the other, from the call until they commit.

* PostgreSQL: a transaction-level advisory lock on a 64-bit hash of the key.
* SQLite: a statement that takes the database's write lock at once (SQLite
  has a single writer; the next transaction waits for it up to the busy
  timeout), so everything read afterwards is what the previous writer committed.

Other databases get no lock and the guard is best effort; the documentation
says so.
"""

from __future__ import annotations

import hashlib

from django.db import DEFAULT_DB_ALIAS, connections

from django_smsgo.models import Message


def serialise(key: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Wait until no other transaction holds ``key``; hold it until this one ends.

    Must be called inside ``transaction.atomic()``.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("serialise() holds its lock until commit: call it inside atomic().")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])
    elif connection.vendor == "sqlite":
        write_first(using=using)


def write_first(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """On SQLite, take the database's write lock now, at the start of the transaction.

    SQLite opens a transaction *deferred*: it reads under a shared lock and
    asks for the write lock at its first write. If another connection wrote
    meanwhile, that upgrade cannot wait (it would deadlock, or read a stale
    snapshot in WAL mode) and fails at once with "database is locked",
    whatever the busy timeout. A transaction that reads before it writes
    (a delivery report: find the recipient, then update it) calls this first,
    so it waits its turn (up to the busy timeout) instead of failing. Django
    5.1's ``"transaction_mode": "IMMEDIATE"`` does the same for every
    transaction. Elsewhere nothing is done. Must be called inside ``atomic()``.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("write_first() takes a lock held until commit: call it in atomic().")
    with connection.cursor() as cursor:
        # Any write takes SQLite's one write lock; this one changes nothing.
        table = connection.ops.quote_name(Message._meta.db_table)
        cursor.execute(f"UPDATE {table} SET id = id WHERE 0")  # noqa: S608 - a constant


def _lock_id(key: str) -> int:
    """A signed 64-bit number for ``key`` (what ``pg_advisory_xact_lock`` takes)."""
    digest = hashlib.blake2b(f"django_smsgo:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)

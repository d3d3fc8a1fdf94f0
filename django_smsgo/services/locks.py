"""One writer at a time: write transactions that cannot fail on SQLite, and guards that hold.

:func:`writing` is ``transaction.atomic()`` for a transaction that will write:
on SQLite it takes the database's one write lock at its start. A deferred
SQLite transaction that reads and then writes fails at once with "database is
locked" when another connection is writing (SQLite cannot wait for the lock
without risking a deadlock); one that takes the lock first waits for it, up to
the busy timeout, like a row lock elsewhere. Every write transaction of the
services is one of these, so concurrent callbacks and sends on Django's
default SQLite settings wait their turn instead of failing.

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
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from django_smsgo.models import Message


@contextmanager
def writing(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """``transaction.atomic()`` that holds the write lock from its start where that is needed."""
    with transaction.atomic(using=using):
        take_write_lock(using=using)
        yield


def take_write_lock(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """On SQLite, take the write lock now (a write that changes nothing); elsewhere nothing."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        table = connection.ops.quote_name(Message._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET id = id WHERE 0")  # noqa: S608 - a constant


def serialise(key: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Wait until no other transaction holds ``key``; hold it until this one ends.

    Must be called inside ``transaction.atomic()``.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("serialise() holds its lock until commit: call it inside atomic().")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id(key)])
    else:
        take_write_lock(using=using)  # SQLite has one writer: that is the lock


def lock_id(key: str) -> int:
    """A signed 64-bit number for ``key`` (what ``pg_advisory_xact_lock`` takes)."""
    digest = hashlib.blake2b(f"django_smsgo:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)

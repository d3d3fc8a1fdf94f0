"""Statements PostgreSQL plans once per session: the fast paths' way to the database.

Planning a statement with common table expressions costs more than running
it. :class:`Statement` keeps one SQL text both as itself and as a named
prepared statement; :func:`run` prepares it on the first use in each database
session and executes it by name afterwards. If the session lost it (a
connection pooler resetting sessions, ``DEALLOCATE``) or has it already, the
plain SQL is sent instead, which writes nothing twice: a failed ``EXECUTE``
ran nothing.

:func:`quoted`, :func:`column` and :func:`literal` build the statements' SQL
from the models' names and choice values, the same way for every statement.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from dataclasses import dataclass
from typing import Any, Literal

from django.db import DatabaseError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

_PARAMETER = re.compile(r"%\((\w+)\)s")
_UNKNOWN_STATEMENT = "26000"  # invalid_sql_statement_name
_DUPLICATE_STATEMENT = "42P05"  # duplicate_prepared_statement

#: Prepared statement names, per database session (the driver's connection).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Statement:
    """One statement as plain SQL (``%(name)s`` parameters), and as a named prepared one."""

    name: str
    sql: str
    prepare: str
    execute: str

    @classmethod
    def of(cls, sql: str, label: str) -> Statement:
        order: list[str] = []

        def positional(match: re.Match[str]) -> str:
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        body = _PARAMETER.sub(positional, sql)
        name = f"smsgo_{label}_{hashlib.sha256(sql.encode()).hexdigest()[:12]}"
        arguments = ", ".join(f"%({key})s" for key in order)
        return cls(name, sql, f"PREPARE {name} AS {body}", f"EXECUTE {name}({arguments})")


def run(
    connection: BaseDatabaseWrapper,
    statement: Statement,
    params: dict[str, Any],
    *,
    fetch: Literal["one", "all"],
) -> Any:
    """Execute ``statement`` with ``params``; its first row (or None) or all its rows."""
    try:
        return _run(connection, statement.execute, params, fetch, prepare=statement)
    except DatabaseError as exc:
        sqlstate = _sqlstate(exc)
        if sqlstate not in (_UNKNOWN_STATEMENT, _DUPLICATE_STATEMENT):
            raise
        # Note what the session has, and send the statement itself this time.
        names = _prepared.setdefault(connection.connection, set())
        if sqlstate == _DUPLICATE_STATEMENT:
            names.add(statement.name)
        else:
            names.discard(statement.name)
        return _run(connection, statement.sql, params, fetch, prepare=None)


def _run(
    connection: BaseDatabaseWrapper,
    sql: str,
    params: dict[str, Any],
    fetch: Literal["one", "all"],
    *,
    prepare: Statement | None,
) -> Any:
    if connection.in_atomic_block:
        # Inside the caller's transaction: a savepoint, so that a failure
        # leaves that transaction usable.
        with transaction.atomic(using=connection.alias):
            return _execute(connection, sql, params, fetch, prepare)
    return _execute(connection, sql, params, fetch, prepare)


def _execute(
    connection: BaseDatabaseWrapper,
    sql: str,
    params: dict[str, Any],
    fetch: Literal["one", "all"],
    prepare: Statement | None,
) -> Any:
    with connection.cursor() as cursor:
        if prepare is not None:
            prepare_in_session(connection, cursor, prepare)
        cursor.execute(sql, params)
        return cursor.fetchone() if fetch == "one" else cursor.fetchall()


def prepare_in_session(connection: BaseDatabaseWrapper, cursor: Any, statement: Statement) -> None:
    """Prepare ``statement`` in the session unless it has it (for a caller that executes it)."""
    names = _prepared.setdefault(connection.connection, set())
    if statement.name not in names:
        cursor.execute(statement.prepare)
        names.add(statement.name)


def lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the session does not have a statement it was asked to execute."""
    return _sqlstate(exc) == _UNKNOWN_STATEMENT


def forget(connection: BaseDatabaseWrapper, statement: Statement) -> None:
    """Note that the session no longer has ``statement`` (prepared again on its next use)."""
    _prepared.setdefault(connection.connection, set()).discard(statement.name)


def quoted(name: str) -> str:
    """A table or column name as the default database quotes it."""
    return connection.ops.quote_name(name)


def column(model: Any, field: str) -> str:
    """The quoted column of ``model.field``: the SQL follows the models' names."""
    return quoted(model._meta.get_field(field).column)


def literal(value: str) -> str:
    """A choice value as an SQL literal (plain words only: never a value from outside)."""
    if not value.replace("_", "").isalnum():
        raise ValueError(f"Not a plain choice value: {value!r}")
    return f"'{value}'"


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)

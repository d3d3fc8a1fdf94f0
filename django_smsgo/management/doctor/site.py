"""The doctor's checks of the site's own settings: the database and the time zone."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from django_smsgo.management.doctor.findings import Finding


def check_database(timeout: float) -> list[Finding]:
    """The default database: SQLite needs a busy timeout and WAL for concurrent callbacks."""
    from django_smsgo.checks import sqlite_options_hint, sqlite_shortcomings

    connection = connections["default"]
    if connection.vendor != "sqlite":
        return [Finding("database", Finding.PASS, f"{connection.vendor}")]
    missing = sqlite_shortcomings(connection.settings_dict.get("OPTIONS") or {})
    if connection.is_in_memory_db():  # type: ignore[attr-defined]  # SQLite only
        # A test run's database: one process, no file to switch to WAL.
        missing = [m for m in missing if m != "WAL mode"]
        if not missing:
            return [Finding("database", Finding.PASS, "SQLite in memory, with a busy timeout")]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = str(cursor.fetchone()[0]).lower()
    if journal == "wal":
        missing = [m for m in missing if m != "WAL mode"]
    elif "WAL mode" not in missing:
        missing.append("WAL mode")
    if missing:
        return [
            Finding(
                "database",
                Finding.WARN,
                f"SQLite (journal mode {journal}) without {' and '.join(missing)}",
                f"Add {sqlite_options_hint()}; for many messages, PostgreSQL.",
            )
        ]
    return [Finding("database", Finding.PASS, "SQLite with a busy timeout and WAL")]


def check_time_zone(timeout: float) -> list[Finding]:
    """Aware datetimes (schedules, expiry, reports) need ``USE_TZ``."""
    if not settings.USE_TZ:
        return [
            Finding(
                "time zone",
                Finding.FAIL,
                "USE_TZ is False: schedules and report times would be read in the wrong zone",
                "Set USE_TZ = True (Django's default since 5.0).",
            )
        ]
    now = timezone.localtime()
    offset = now.utcoffset() or timedelta(0)
    hours = offset.total_seconds() / 3600
    return [
        Finding(
            "time zone",
            Finding.PASS,
            f"USE_TZ on; TIME_ZONE {settings.TIME_ZONE} (UTC{hours:+g}); the admin shows "
            "schedules in Taiwan time",
        )
    ]

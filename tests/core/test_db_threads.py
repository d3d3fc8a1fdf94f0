"""Database threads: work runs on connections of their own, all closed when the block ends."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from django_smsgo.services.db_threads import DatabaseThreads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs sessions a second connection can see; run with DATABASE_URL=postgres://…",
    ),
]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    time.sleep(0.05)  # long enough for the next call to find this thread busy
    return int(pid)


def sessions(pids: set[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)])
        (count,) = cursor.fetchone()
    return int(count)


def sessions_once_closed(pids: set[int], within: float = 5.0) -> int:
    """``sessions(pids)`` once closed ones have ended (a server process exits just after)."""
    deadline = time.monotonic() + within
    while (count := sessions(pids)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return count


def test_each_thread_has_its_own_connection_and_closes_it_at_the_end() -> None:
    with DatabaseThreads(2, name="test") as threads:
        pids = {future.result() for future in [threads.submit(backend_pid) for _ in range(4)]}
        assert len(pids) == 2
        assert backend_pid() not in pids  # the caller's own connection is not lent
        assert sessions(pids) == 2
    assert sessions_once_closed(pids) == 0


def test_an_exception_reaches_whoever_waits_and_the_thread_goes_on() -> None:
    def fail() -> None:
        raise ValueError("no")

    with DatabaseThreads(1, name="test") as threads:
        failed = threads.submit(fail)
        after = threads.submit(backend_pid)
        with pytest.raises(ValueError, match="no"):
            failed.result()
        assert after.result() > 0

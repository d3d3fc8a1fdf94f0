"""Run test modules again, in their own pytest process, on a SQLite file.

An in-memory SQLite database (the suite's default) shares one cache between
connections and refuses a concurrent writer at once; a file makes it wait for
the lock, up to the busy timeout, as in a real project. Race tests that must
hold on SQLite as projects run it go through here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[1]

#: Marks a test that runs only when the suite itself is on SQLite.
only_on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the suite runs on SQLite itself"
)


def run_on_sqlite_file(database: Path, *modules: str) -> None:
    """Run ``modules`` with ``database`` as the test database; fail with their output."""
    env = {**os.environ, "SQLITE_TEST_FILE": str(database)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *modules],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    assert "skipped" not in done.stdout.splitlines()[-1]

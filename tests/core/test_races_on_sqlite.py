"""The race tests on SQLite, with the database in a file as a project's is.

An in-memory SQLite database (the suite's default) shares one cache between
connections and refuses a concurrent writer at once; a file makes it wait for
the lock, up to the busy timeout, as in a real project. So the race modules
run again, in its own pytest process, on a file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
RACE_MODULES = ["tests/core/test_races.py", "tests/api/test_races.py"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the suite runs on SQLite itself")
def test_the_races_hold_on_a_sqlite_file(tmp_path: Path) -> None:
    env = {**os.environ, "SQLITE_TEST_FILE": str(tmp_path / "races.sqlite3")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/core/test_races.py",
        ],
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

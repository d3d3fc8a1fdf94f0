"""The budget race of ``test_budget_races.py`` on SQLite with the database in a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the suite runs on SQLite itself")
def test_the_budget_holds_on_a_sqlite_file(tmp_path: Path) -> None:
    env = {**os.environ, "SQLITE_TEST_FILE": str(tmp_path / "budget.sqlite3")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/carrier_rules/test_budget_races.py",
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

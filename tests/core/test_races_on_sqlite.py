"""The race tests on SQLite, with the database in a file as a project's is."""

from __future__ import annotations

from pathlib import Path

from tests.sqlite_file import only_on_sqlite, run_on_sqlite_file

RACE_MODULES = ["tests/core/test_races.py", "tests/api/test_races.py"]


@only_on_sqlite
def test_the_races_hold_on_a_sqlite_file(tmp_path: Path) -> None:
    run_on_sqlite_file(tmp_path / "races.sqlite3", *RACE_MODULES)

"""The budget race of ``test_budget_races.py`` on SQLite with the database in a file."""

from __future__ import annotations

from pathlib import Path

from tests.sqlite_file import only_on_sqlite, run_on_sqlite_file


@only_on_sqlite
def test_the_budget_holds_on_a_sqlite_file(tmp_path: Path) -> None:
    run_on_sqlite_file(tmp_path / "budget.sqlite3", "tests/carrier_rules/test_budget_races.py")

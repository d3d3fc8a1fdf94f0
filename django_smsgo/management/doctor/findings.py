"""One line of ``smsgo_doctor``'s report: a check, its verdict, what it saw, the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``check``, ``status`` (PASS/WARN/FAIL/SKIP), what, and the fix."""

    check: str
    status: str
    summary: str
    fix: str = ""

    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

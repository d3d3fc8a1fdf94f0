"""The checks of ``manage.py smsgo_doctor``, each a function that returns its findings.

Each check looks at one thing a working setup needs and says, in words, what
it saw and how to fix it. They call the services (balance, the callback
probe, the periodic jobs' records) and, for Celery, the project's own Celery
app; nothing here sends an SMS.
"""

from __future__ import annotations

from collections.abc import Callable

from django_smsgo.management.doctor.findings import Finding
from django_smsgo.management.doctor.gateway import (
    check_account,
    check_callbacks,
    check_configuration,
    check_https,
)
from django_smsgo.management.doctor.processes import check_dispatch, check_periodic_jobs
from django_smsgo.management.doctor.site import check_database, check_time_zone

__all__ = ["Finding", "diagnose"]


def diagnose(*, timeout: float = 10.0) -> list[Finding]:
    """Run every check; a check that crashes is reported as failed, the others still run."""
    checks: list[Callable[[float], list[Finding]]] = [
        check_configuration,
        check_account,
        check_callbacks,
        check_dispatch,
        check_periodic_jobs,
        check_database,
        check_time_zone,
        check_https,
    ]
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check(timeout))
        except Exception as exc:  # a doctor that crashes tells nothing
            name = check.__name__.removeprefix("check_")
            findings.append(
                Finding(name, Finding.FAIL, f"the check itself failed: {type(exc).__name__}: {exc}")
            )
    return findings

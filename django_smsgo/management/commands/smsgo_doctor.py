"""``manage.py smsgo_doctor``: is this site set up to send SMS and hear back? One line per check.

Run it after setting up, and again when something is off. Each check prints
``PASS``, ``WARN`` or ``FAIL`` with what it saw and, unless it passed, the fix.
The exit status is 1 when a check failed; ``--json`` prints the findings for
scripts. Nothing is sent: the account is checked with one balance query, and
the callback URL with a signed probe that must come back to this site's
database (:mod:`django_smsgo.services.callback_probe`).

The checks: the configuration (the app's system checks and
``sending.check_ready()``), the account and its balance, ``CALLBACK_BASE_URL``
reaching this site, dispatch (a broker and a live worker, or in-process), the
periodic jobs (their last runs, whoever runs them), the database, the time
zone, HTTPS.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from django_smsgo.management.doctor import Finding, diagnose


class Command(BaseCommand):
    help = (
        "Check that django-smsgo can send and hear back here: credentials and balance, "
        "the callback URL, dispatch and workers, periodic jobs, database, time zone, HTTPS. "
        "Sends nothing; exits 1 when a check fails."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the findings as JSON")
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="seconds to wait for the gateway, the callback probe and the workers (10)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        findings = diagnose(timeout=options["timeout"])
        failed = any(f.status == Finding.FAIL for f in findings)
        if options["json"]:
            payload = {"ok": not failed, "checks": [f.as_dict() for f in findings]}
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            for finding in findings:
                self.show(finding)
            verdict = "Something must be fixed (FAIL above)." if failed else "Ready to send."
            self.stdout.write(verdict)
        if failed:
            raise SystemExit(1)

    def show(self, finding: Finding) -> None:
        style = {
            Finding.PASS: self.style.SUCCESS,
            Finding.WARN: self.style.WARNING,
            Finding.FAIL: self.style.ERROR,
        }.get(finding.status, str)
        self.stdout.write(f"{style(finding.status):<4}  {finding.check:<12} {finding.summary}")
        if finding.fix and finding.status != Finding.PASS:
            self.stdout.write(f"{'':18}fix: {finding.fix}")

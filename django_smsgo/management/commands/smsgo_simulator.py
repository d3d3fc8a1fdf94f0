"""``manage.py smsgo_simulator``: run the bundled gateway simulator beside the project."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from django_smsgo.conf import smsgo_settings
from django_smsgo.simulator import cli
from django_smsgo.simulator.records import Account


class Command(BaseCommand):
    help = (
        "Run a local smsgo gateway. Without --account it accepts the project's "
        "SMSGO USERNAME/PASSWORD with 10000 points; point SMSGO['API_URL'] at the "
        "URL it prints."
    )

    # The simulator stands apart from the project: it must start even while the
    # project's SMSGO settings are incomplete (that is often why one runs it).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        configured = smsgo_settings.USERNAME and smsgo_settings.PASSWORD
        if configured and not options["account"] and not options["accounts_file"]:
            options["account"] = [Account(smsgo_settings.USERNAME, smsgo_settings.PASSWORD, 10_000)]
        cli.run(options, self.stdout)

"""``manage.py smsgo_balance``: ask the gateway for the account balance and store it."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_smsgo.exceptions import SmsgoConfigurationError, SmsgoError
from django_smsgo.services.balance import latest_balance, refresh_balance


class Command(BaseCommand):
    help = "Print the smsgo account balance (asks the gateway and stores a snapshot)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--cached", action="store_true", help="print the last stored balance, ask nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["cached"]:
            snapshot = latest_balance()
            if snapshot is None:
                raise CommandError("No balance stored yet; run without --cached.")
        else:
            try:
                snapshot = refresh_balance()
            except (SmsgoError, SmsgoConfigurationError) as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{snapshot.points} points (checked {snapshot.checked_at:%Y-%m-%d %H:%M:%S %Z})"
        )

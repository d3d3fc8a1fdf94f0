"""``manage.py smsgo_poll``: ask the gateway about submitted SMS without a final status."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_smsgo.exceptions import SmsgoConfigurationError
from django_smsgo.services.polling import poll_delivery_status


class Command(BaseCommand):
    help = "Poll queryBulk.asp for recipients submitted but not final yet."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--min-age",
            type=float,
            default=None,
            help="only recipients submitted at least this many seconds ago (0: all; "
            "default SMSGO['POLL_MIN_AGE'])",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = poll_delivery_status(options["min_age"])
        except SmsgoConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Asked about {result.asked} recipient(s) in {result.requests} request(s); "
            f"{result.changed} changed, {result.given_up} given up."
        )
        if result.error:
            raise CommandError(f"Polling stopped early: {result.error}")

"""``manage.py smsgo_cleanup --days N``: delete or anonymise what is older than N days."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_smsgo.services.retention import DEFAULT_BATCH_SIZE, cleanup


class Command(BaseCommand):
    help = (
        "Delete (or, with --anonymise, strip numbers and texts from) messages, recipients, "
        "delivery reports, replies and one-time codes older than --days, in bounded batches. "
        "The opt-out list is kept."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--days", type=int, required=True, help="keep what is younger than this many days"
        )
        parser.add_argument(
            "--anonymise",
            "--anonymize",
            action="store_true",
            help="keep the rows for statistics, without numbers and texts",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be touched, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = cleanup(
                options["days"],
                anonymise=options["anonymise"],
                batch_size=options["batch_size"],
                dry_run=options["dry_run"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        verb = "anonymised" if result.anonymise else "deleted"
        if result.dry_run:
            verb = f"would be {verb}"
        self.stdout.write(f"Older than {result.cutoff:%Y-%m-%d %H:%M %Z}:")
        for label, count in result.counts.items():
            self.stdout.write(f"  {label}: {count} {verb}")
        self.stdout.write(f"{result.total} row(s) {verb}.")

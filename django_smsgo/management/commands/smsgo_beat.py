"""``manage.py smsgo_beat``: create or update django-celery-beat's periodic tasks for smsgo."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create or update the periodic tasks django-smsgo needs (sweep, polling, balance and, "
        "with --retention-days, the nightly cleanup) in django-celery-beat, on Asia/Taipei "
        "crontabs. Safe to run on every deploy."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--retention-days",
            type=int,
            default=None,
            help="also run smsgo_cleanup every night, keeping this many days",
        )
        parser.add_argument(
            "--anonymise",
            "--anonymize",
            action="store_true",
            help="the nightly cleanup anonymises instead of deleting",
        )
        parser.add_argument("--dry-run", action="store_true", help="show, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if not apps.is_installed("django_celery_beat"):
            raise CommandError(
                "django-celery-beat is not installed: pip install 'django-smsgo[beat]' and add "
                "'django_celery_beat' to INSTALLED_APPS."
            )
        from django_smsgo.integrations.beat import install_schedule

        try:
            result = install_schedule(
                options["retention_days"],
                anonymise=options["anonymise"],
                dry_run=options["dry_run"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        prefix = "Would be " if options["dry_run"] else ""
        for label, names in (
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
            ("disabled", result.disabled),
        ):
            if names:
                self.stdout.write(f"{prefix}{label}: {', '.join(names)}")

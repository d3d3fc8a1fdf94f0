"""``manage.py smsgo_send``: send one text to numbers given as arguments or in a CSV file."""

from __future__ import annotations

import csv
import sys
import time
from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_smsgo.exceptions import SmsgoError
from django_smsgo.models import Message, Recipient
from django_smsgo.services.sending import plan_send, send_sms

BAR_WIDTH = 40


class Command(BaseCommand):
    help = (
        "Send one SMS text to numbers given as arguments and/or read from a CSV file. "
        "--dry-run validates and prints segments and estimated points without sending."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("numbers", nargs="*", help="receiver numbers")
        parser.add_argument("-m", "--message", required=True, help="the text to send")
        parser.add_argument("--csv", dest="csv_file", help="CSV file with one number per row")
        parser.add_argument(
            "--column",
            default="0",
            help="CSV column holding the numbers: a header name or a 0-based index (default 0)",
        )
        parser.add_argument("--encoding", help="BIG5, ASCII, UCS2, LBIG5… (default: automatic)")
        parser.add_argument("--send-at", help="schedule, ISO 8601 with a time zone offset")
        parser.add_argument(
            "--priority", choices=Message.Priority.values, default=Message.Priority.NORMAL
        )
        parser.add_argument("--idempotency-key")
        parser.add_argument("--allow-duplicate", action="store_true")
        parser.add_argument(
            "--transactional",
            action="store_true",
            help="a code or notice: sent to numbers on the opt-out list too",
        )
        parser.add_argument("--dry-run", action="store_true", help="validate and estimate only")
        parser.add_argument("--no-wait", action="store_true", help="do not wait for dispatch")
        parser.add_argument(
            "--timeout", type=float, default=600.0, help="seconds to wait for dispatch (600)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        numbers = list(options["numbers"])
        if options["csv_file"]:
            numbers.extend(read_csv_numbers(options["csv_file"], options["column"]))
        if not numbers:
            raise CommandError("No numbers: give them as arguments or with --csv FILE.")
        send_options: dict[str, Any] = {
            "encoding": options["encoding"],
            "send_at": parse_when(options["send_at"]),
            "priority": options["priority"],
            "allow_duplicate": options["allow_duplicate"],
            "kind": "transactional" if options["transactional"] else "marketing",
        }
        try:
            if options["dry_run"]:
                self.dry_run(numbers, options["message"], send_options)
                return
            message = send_sms(
                numbers,
                options["message"],
                idempotency_key=options["idempotency_key"],
                **send_options,
            )
        except SmsgoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Message {message.pk}: {message.recipient_count} recipient(s), "
            f"about {message.estimated_points} points, {message.status}."
        )
        if not options["no_wait"]:
            self.wait(message, options["timeout"])

    def dry_run(self, numbers: list[str], body: str, send_options: dict[str, Any]) -> None:
        plan = plan_send(numbers, body, **send_options)
        sendable = len(plan.sendable)
        requests = -(-sendable // 50)
        self.stdout.write(f"Encoding: {plan.encoding}")
        self.stdout.write(f"Segments per recipient: {plan.segments}")
        self.stdout.write(
            f"Recipients: {len(plan.numbers)} ({len(plan.suppressed)} suppressed, "
            f"{sendable} to send)"
        )
        self.stdout.write(f"Gateway requests: {requests}")
        self.stdout.write(f"Estimated points: {plan.estimated_points}")
        self.stdout.write("Dry run: nothing was stored or sent.")

    def wait(self, message: Message, timeout: float) -> None:
        """Show a progress bar until no recipient is queued, or ``timeout`` seconds pass."""
        total = message.recipient_count or 1
        deadline = time.monotonic() + timeout
        while True:
            counts = Recipient.objects.filter(message=message).status_counts()
            done = total - counts.get(Recipient.Status.QUEUED, 0)
            self.progress(done, total)
            if done >= total or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.stdout.write("")
        message.refresh_from_db()
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self.stdout.write(f"Message {message.pk} is {message.status}: {summary}.")
        if done < total:
            self.stdout.write(
                self.style.WARNING("Still queued: is a Celery worker running? Check again later.")
            )

    def progress(self, done: int, total: int) -> None:
        filled = int(BAR_WIDTH * done / total)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total}", ending="")
        if hasattr(self.stdout, "flush"):
            self.stdout.flush()


def read_csv_numbers(path: str, column: str) -> list[str]:
    """The numbers in ``column`` (header name or 0-based index) of the CSV file ``path``."""
    try:
        handle = sys.stdin if path == "-" else open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
    with handle:
        rows = list(csv.reader(handle))
    if not rows:
        return []
    if column.isdigit():
        index = int(column)
        start = 1 if rows and not any(ch.isdigit() for ch in rows[0][index]) else 0
    else:
        header = [h.strip() for h in rows[0]]
        if column not in header:
            raise CommandError(f"Column {column!r} not in the CSV header {header}.")
        index, start = header.index(column), 1
    numbers = []
    for line, row in enumerate(rows[start:], start=start + 1):
        if len(row) <= index:
            raise CommandError(f"{path} line {line} has no column {column}.")
        if row[index].strip():
            numbers.append(row[index].strip())
    return numbers


def parse_when(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601; a value without offset is refused."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--send-at {value!r} is not ISO 8601 (2025-01-31T09:00+08:00)."
        ) from exc
    if when.tzinfo is None:
        raise CommandError(f"--send-at {value!r} needs a time zone offset, e.g. +08:00.")
    return when

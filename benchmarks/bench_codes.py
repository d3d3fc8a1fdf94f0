"""send_otp() under abuse: a thousand racing requests for one number, a script hammering a key.

Two measurements, on SQLite (a file, as one machine would run it) and on
PostgreSQL (``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/smsgo_codes_bench``,
dropped and created again), each against the bundled gateway simulator in
this process, with dispatch run in-process (eager Celery), so every SMS the
app lets through reaches the simulator at once:

1. **Same number**: 1,000 requests for one number released at one instant
   from ``--threads`` threads, each with its own real database connection,
   all within one cooldown window. Run for a number never seen (its cooldown
   row is created by the race) and for a returning one (the row exists and
   its cooldown has run out). Promise: exactly one SMS.
2. **One key, 10,000 numbers**: a script asks for codes for 10,000 different
   numbers with the same caller key, one after the other. Promise: it is
   stopped at the key's cap (``OTP_KEY_CAPS``); the rest are refused. Timed
   with and without ``OTP_CACHE`` (a locmem cache here): the ratio is what the
   cache saves per refused request.

Usage::

    .venv/bin/python benchmarks/bench_codes.py [--database sqlite|postgres|both]
                                               [--requests 1000] [--threads 50]
                                               [--numbers 10000]

Nothing is asserted on time; the SMS counts are checked and the script exits
1 when a promise is broken.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smsgo_codes_bench"
)
KEY_CAP = 10


def configure(database: str, directory: str, api_url: str) -> None:
    """Settings for one run: the app, the codes app, the database, the simulator."""
    import dj_database_url
    import django
    from django.conf import settings

    if database == "sqlite":
        db: dict[str, Any] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(directory, "codes.sqlite3"),
            # Writers queue on SQLite's one write lock: wait for it, do not fail.
            "OPTIONS": {"timeout": 300},
        }
        if django.VERSION >= (5, 1):
            # Take the write lock when a transaction begins: a transaction that
            # read first and writes later would fail at once ("database is
            # locked") instead of waiting (the example project does the same).
            db["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    else:
        db = dj_database_url.parse(PG_URL, conn_max_age=0)
    settings.configure(
        SECRET_KEY="bench-codes-not-secret",
        USE_TZ=True,
        TIME_ZONE="Asia/Taipei",
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django_smsgo",
            "django_smsgo.codes",
        ],
        DATABASES={"default": db},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "codes": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        },
        CELERY_BROKER_URL="memory://",
        CELERY_TASK_ALWAYS_EAGER=True,
        CELERY_TASK_EAGER_PROPAGATES=True,
        SMSGO={
            "USERNAME": "bench",
            "PASSWORD": "bench-password",
            "API_URL": api_url,
            "BACKUP_API_URL": None,
            "OTP_SENDER_TAG": "Bench",
            "OTP_KEY_CAPS": [(KEY_CAP, 3600)],
            "OTP_NUMBER_CAPS": [(5, 3600)],
        },
    )
    django.setup()
    from celery import Celery

    app = Celery("bench_codes", include=["django_smsgo.tasks"])
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.set_default()


def recreate_postgres() -> None:
    import psycopg

    parts = urlsplit(PG_URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def database_version(connection: Any) -> str:
    """``sqlite 3.40.1`` or ``postgresql 150020``: what the figures were measured on."""
    if connection.vendor == "sqlite":
        return "sqlite " + ".".join(map(str, connection.Database.sqlite_version_info))
    with connection.cursor() as cursor:
        return f"postgresql {cursor.connection.info.server_version}"


def sms_count(simulator: Any) -> int:
    return sum(1 for r in simulator.requests if r["endpoint"] == "sendsms.aspx")


def race(number: str, requests: int, threads: int) -> tuple[Counter[str], float]:
    """``requests`` calls of send_otp(number), released at once over ``threads`` connections."""
    from django.db import connections

    from django_smsgo.codes import send_otp
    from django_smsgo.codes.errors import CodeRefused

    per_thread = [
        requests // threads + (1 if i < requests % threads else 0) for i in range(threads)
    ]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def run(count: int) -> None:
        seen: Counter[str] = Counter()
        try:
            start.wait()
            for _ in range(count):
                try:
                    send_otp(number, key="race")
                    seen["sent"] += 1
                except CodeRefused as refusal:
                    seen[refusal.reason] += 1
                except Exception as error:
                    seen[f"error: {type(error).__name__}: {error}"] += 1
        finally:
            connections.close_all()
            with lock:
                outcomes.update(seen)

    workers = [threading.Thread(target=run, args=(n,)) for n in per_thread]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return outcomes, time.perf_counter() - began


def hammer(numbers: int, *, cache: bool) -> tuple[Counter[str], float]:
    """One script, one key, ``numbers`` different numbers, one request after the other."""
    from django.conf import settings
    from django.core.cache import caches
    from django.test.signals import setting_changed

    from django_smsgo.codes import send_otp
    from django_smsgo.codes.errors import CodeRefused

    settings.SMSGO = {**settings.SMSGO, "OTP_CACHE": "codes" if cache else None}
    setting_changed.send(sender=None, setting="SMSGO", value=settings.SMSGO, enter=True)
    caches["codes"].clear()
    key = f"203.0.113.{7 if cache else 9}"
    prefix = "0966" if cache else "0955"  # numbers of their own: no cooldown left over
    outcomes: Counter[str] = Counter()
    refusing = 0.0  # seconds spent in refused requests only (sends go to the gateway)
    for n in range(numbers):
        began = time.perf_counter()
        try:
            send_otp(f"{prefix}{n:06d}", key=key)
            outcomes["sent"] += 1
        except CodeRefused as refusal:
            refusing += time.perf_counter() - began
            outcomes[refusal.reason] += 1
    return outcomes, refusing


def run(database: str, requests: int, threads: int, numbers: int) -> bool:
    from django_smsgo.simulator import Account, Simulator, SimulatorConfig

    ok = True
    with tempfile.TemporaryDirectory() as directory:
        simulator = Simulator(
            [Account("bench", "bench-password", 10_000_000)],
            SimulatorConfig(delivery_delay=0.0, callback_retry_delay=0.0),
        ).start()
        try:
            if database == "postgres":
                recreate_postgres()
            configure(database, directory, simulator.base_url)
            from django.core.management import call_command
            from django.db import connection
            from django.db.models import F

            call_command("migrate", verbosity=0)
            vendor = database_version(connection)
            print(f"\n== {vendor}, {threads} threads, one connection each")

            from datetime import timedelta

            from django_smsgo.codes.models import CodeCooldown

            for label, number in (("new number", "0912000001"), ("returning number", "0912000002")):
                if label == "returning number":
                    from django_smsgo.codes import send_otp

                    send_otp(number)
                    CodeCooldown.objects.update(
                        last_sent_at=F("last_sent_at") - timedelta(seconds=61)
                    )
                before = sms_count(simulator)
                outcomes, seconds = race(number, requests, threads)
                sent = sms_count(simulator) - before
                errors = {k: v for k, v in outcomes.items() if k.startswith("error")}
                print(
                    f"same {label}: {requests:,} requests in {seconds:.2f} s -> "
                    f"{sent} SMS at the gateway; refused: {outcomes['cooldown']:,} cooldown"
                    + (f"; ERRORS {errors}" if errors else "")
                )
                ok &= sent == 1 and outcomes["sent"] == 1 and not errors

            timings = {}
            for cache in (False, True):
                before = sms_count(simulator)
                outcomes, seconds = hammer(numbers, cache=cache)
                sent = sms_count(simulator) - before
                timings[cache] = seconds / max(1, outcomes["cap"])
                print(
                    f"one key, {numbers:,} numbers, {'with' if cache else 'without'} OTP_CACHE: "
                    f"{sent} SMS (cap {KEY_CAP}), {outcomes['cap']:,} refused at the cap "
                    f"in {seconds:.2f} s ({timings[cache] * 1000:.3f} ms a refusal)"
                )
                ok &= sent == KEY_CAP and outcomes["sent"] == KEY_CAP
            print(
                "refusal cost with OTP_CACHE / without: "
                f"{timings[True] / timings[False]:.3f} (same run, same machine)"
            )
        finally:
            simulator.stop()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--numbers", type=int, default=10_000)
    args = parser.parse_args()
    if args.database == "both":
        # Django is configured once per process: one child per database.
        import subprocess

        codes = [
            subprocess.run(
                [sys.executable, __file__, "--database", db, "--requests", str(args.requests),
                 "--threads", str(args.threads), "--numbers", str(args.numbers)],
                check=False,
            ).returncode
            for db in ("sqlite", "postgres")
        ]  # fmt: skip
        return max(codes)
    ok = run(args.database, args.requests, args.threads, args.numbers)
    print("promises kept" if ok else "PROMISE BROKEN")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The checks of ``manage.py smsgo_doctor``, each a function that returns its findings.

Each check looks at one thing a working setup needs and says, in words, what
it saw and how to fix it. They call the services (balance, the callback
probe, the periodic jobs' records) and, for Celery, the project's own Celery
app; nothing here sends an SMS.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import ERROR, run_checks
from django.db import DatabaseError, connections
from django.utils import timezone

from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import (
    AuthorizationError,
    GatewayError,
    SmsgoConfigurationError,
    TransportError,
)

GATEWAY_BACKEND = "django_smsgo.backends.gateway.GatewayBackend"
#: The Celery tasks beat must schedule, by job.
BEAT_TASKS = {
    "sweep": "django_smsgo.tasks.sweep",
    "poll": "django_smsgo.tasks.poll_delivery_status",
    "balance": "django_smsgo.tasks.refresh_balance",
}


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


# --- configuration ----------------------------------------------------------------------------


def check_configuration(timeout: float) -> list[Finding]:
    """The app's system checks (errors fail, warnings warn) and whether a send could go out."""
    from django_smsgo.services.sending import check_ready

    try:
        check_ready()
    except SmsgoConfigurationError as exc:
        return [
            Finding(
                "settings",
                Finding.FAIL,
                f"every send is refused: {exc}",
                "Fix the setting named above (docs/settings.rst).",
            )
        ]
    messages = [m for m in run_checks() if (m.id or "").startswith("smsgo.")]
    errors = [m for m in messages if m.level >= ERROR]
    if errors:
        return [
            Finding(
                "settings",
                Finding.FAIL,
                "; ".join(f"{m.id}: {m.msg}" for m in errors),
                "; ".join(str(m.hint) for m in errors if m.hint) or "See docs/checks.rst.",
            )
        ]
    warned = sorted({str(m.id) for m in messages})
    if warned:
        return [
            Finding(
                "settings",
                Finding.PASS,
                f"a send can go out (system check warnings: {', '.join(warned)}; "
                "manage.py check shows them)",
            )
        ]
    return [Finding("settings", Finding.PASS, "a send can go out; no system check complains")]


# --- account ----------------------------------------------------------------------------------


def check_account(timeout: float) -> list[Finding]:
    """One balance query: the credentials, the IP lock and the points (nothing is sent)."""
    from django_smsgo.services.balance import refresh_balance

    if smsgo_settings.BACKEND != GATEWAY_BACKEND:
        return [
            Finding(
                "account",
                Finding.WARN,
                f"BACKEND is {smsgo_settings.BACKEND}: no SMS reaches the gateway",
                "Fine for development and tests; remove SMSGO['BACKEND'] to send for real.",
            )
        ]
    try:
        snapshot = refresh_balance()
    except SmsgoConfigurationError as exc:
        return [Finding("account", Finding.FAIL, str(exc), "Fix the setting named above.")]
    except AuthorizationError as exc:
        return [
            Finding(
                "account",
                Finding.FAIL,
                f"the gateway refused the account {smsgo_settings.USERNAME!r}: {exc}",
                "Check SMSGO['USERNAME'] and SMSGO['PASSWORD'], and this server's IP address "
                "in the IP lock of the smsgo member area.",
            )
        ]
    except GatewayError as exc:
        return [Finding("account", Finding.FAIL, f"the gateway refused the balance query: {exc}")]
    except TransportError as exc:
        return [
            Finding(
                "account",
                Finding.FAIL,
                f"the gateway could not be asked: {exc}",
                f"Check SMSGO['API_URL'] ({smsgo_settings.API_URL}) and that this server "
                "reaches it.",
            )
        ]
    threshold = int(smsgo_settings.LOW_BALANCE_THRESHOLD or 0)
    summary = f"account {smsgo_settings.USERNAME!r} accepted; balance {snapshot.points:,} points"
    if snapshot.points < threshold:
        return [
            Finding(
                "account",
                Finding.WARN,
                f"{summary}, below LOW_BALANCE_THRESHOLD ({threshold})",
                "Top up the account in the smsgo member area.",
            )
        ]
    return [Finding("account", Finding.PASS, summary)]


# --- callbacks --------------------------------------------------------------------------------


def check_callbacks(timeout: float) -> list[Finding]:
    """A signed probe through ``CALLBACK_BASE_URL`` must land in this site's database."""
    from django_smsgo.services import callback_probe

    base = smsgo_settings.CALLBACK_BASE_URL
    if base is None:
        return [
            Finding(
                "callbacks",
                Finding.WARN,
                "CALLBACK_BASE_URL is not set: no delivery reports or replies arrive; statuses "
                "come from polling only",
                "Set it to the public origin of this site (e.g. 'https://example.com'), and keep "
                "the periodic poll job running.",
            )
        ]
    if not smsgo_settings.CALLBACK_TOKEN:
        return [Finding("callbacks", Finding.FAIL, "CALLBACK_TOKEN is empty", "Set it (E005).")]
    nonce = callback_probe.new_nonce()
    url = str(callback_probe.probe_url(nonce))
    shown = f"{str(base).rstrip('/')}{urlsplit(url).path.rsplit('/', 2)[0]}/…"
    try:
        status, body = _get(url, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return [
            Finding(
                "callbacks",
                Finding.FAIL,
                f"nothing answered at {base} ({type(exc).__name__}): the gateway's reports "
                "cannot arrive",
                f"Start the web server where CALLBACK_BASE_URL points ({base}), or set "
                "CALLBACK_BASE_URL to the address this site is served at.",
            )
        ]
    try:
        if callback_probe.arrived(nonce):
            return [
                Finding(
                    "callbacks",
                    Finding.PASS,
                    f"CALLBACK_BASE_URL {base} reaches this site (signed probe {shown} came back)",
                )
            ]
    finally:
        callback_probe.forget(nonce)
    return [_wrong_server(str(base), status, body)]


def _get(url: str, timeout: float) -> tuple[int, str]:
    """GET ``url`` without following redirects (the gateway does not); status and body."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.netloc, timeout=timeout)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return response.status, response.read(4096).decode("utf-8", "replace")
    finally:
        connection.close()


def _wrong_server(base: str, status: int, body: str) -> Finding:
    from django_smsgo.services.callback_probe import ANSWER

    if status == 200 and body.startswith(ANSWER.split("{")[0]):
        seen = "a django-smsgo site with another database answered"
    elif status in (301, 302, 303, 307, 308):
        seen = f"the server answered a redirect (HTTP {status}); the gateway does not follow it"
    elif status == 404:
        seen = "the server answered 404: it is another site, or django_smsgo.urls is not included"
    else:
        seen = f"the server answered HTTP {status}, and the probe never reached this site"
    return Finding(
        "callbacks",
        Finding.FAIL,
        f"CALLBACK_BASE_URL {base} does not reach this site: {seen}; every delivery report "
        "would go there",
        "Point CALLBACK_BASE_URL at this site's own address and port (the one runserver or "
        "gunicorn listens on, or the proxy in front of it), with django_smsgo.urls included.",
    )


# --- dispatch ---------------------------------------------------------------------------------


def check_dispatch(timeout: float) -> list[Finding]:
    """In-process dispatch, or a reachable broker and a live worker consuming the queues."""
    from django_smsgo.services import dispatching

    try:
        mode = dispatching.mode()
    except SmsgoConfigurationError as exc:
        return [Finding("dispatch", Finding.FAIL, str(exc))]
    if mode == "inline":
        return [
            Finding(
                "dispatch",
                Finding.PASS,
                "inline: each message is sent by the process that stored it, right after "
                "commit; no broker or worker needed",
            )
        ]
    return _check_celery(timeout)


def _check_celery(timeout: float) -> list[Finding]:
    try:
        from celery import current_app
    except ImportError:
        return [
            Finding(
                "dispatch",
                Finding.FAIL,
                "DISPATCH is 'celery' but Celery cannot be imported",
                'pip install "django-smsgo[redis]" (or [rabbitmq]), or DISPATCH "inline".',
            )
        ]
    app = current_app._get_current_object()
    broker = _redacted(str(app.conf.broker_write_url or app.conf.broker_url or "amqp://"))
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        return [
            Finding(
                "dispatch",
                Finding.FAIL,
                f"the Celery broker {broker} cannot be reached ({type(exc).__name__}: {exc})",
                "Start the broker, or set CELERY_BROKER_URL to it (and install its client: "
                'pip install "django-smsgo[redis]"). Without a broker: SMSGO["DISPATCH"] = '
                '"inline".',
            )
        ]
    found = [Finding("dispatch", Finding.PASS, f"the Celery broker {broker} answers")]
    try:
        queues = app.control.inspect(timeout=min(timeout, 3.0)).active_queues() or {}
    except NotImplementedError:
        found.append(
            Finding(
                "workers",
                Finding.WARN,
                f"workers cannot be asked over this broker ({broker.split(':')[0]})",
                "Check yourself that `celery -A <project> worker` runs.",
            )
        )
        return found
    needed = _dispatch_queues(app)
    serving = {q["name"] for worker in queues.values() for q in worker}
    if not queues:
        found.append(
            Finding(
                "workers",
                Finding.FAIL,
                "no Celery worker answered: queued messages wait until one runs",
                "Start one: celery -A <project> worker --loglevel INFO (or set "
                'SMSGO["DISPATCH"] = "inline" to send without workers).',
            )
        )
    elif not needed <= serving:
        found.append(
            Finding(
                "workers",
                Finding.FAIL,
                f"{len(queues)} worker(s) answered, but none consumes "
                f"{', '.join(sorted(needed - serving))}",
                f"Start a worker with -Q {','.join(sorted(needed))}.",
            )
        )
    else:
        found.append(
            Finding(
                "workers",
                Finding.PASS,
                f"{len(queues)} worker(s) consume {', '.join(sorted(needed))}",
            )
        )
    return found


def _dispatch_queues(app: Any) -> set[str]:
    names = {smsgo_settings.QUEUE, *(smsgo_settings.PRIORITY_QUEUES or {}).values()}
    default = str(app.conf.task_default_queue or "celery")
    return {str(name) for name in names if name} or {default}


def _redacted(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


# --- periodic jobs ----------------------------------------------------------------------------


def check_periodic_jobs(timeout: float) -> list[Finding]:
    """Each job's last run, whoever ran it (smsgo_jobs or beat); the fix names the scheduler."""
    from django_smsgo.services import jobs

    found = []
    for job in jobs.health():
        if job.running:
            ago = (timezone.now() - job.last_finished).total_seconds() if job.last_finished else 0
            status = Finding.PASS if job.succeeded else Finding.WARN
            summary = f"{job.name} ran {ago:.0f} s ago by {job.runner or 'unknown'}"
            fix = "" if job.succeeded else f"its last run failed: {job.summary}"
            found.append(Finding(f"job {job.name}", status, summary, fix))
            continue
        # The balance refresh only keeps the balance guard informed: a warning.
        status = Finding.WARN if job.name == "balance" else Finding.FAIL
        when = (
            f"last finished {timezone.localtime(job.last_finished):%Y-%m-%d %H:%M:%S}"
            if job.last_finished
            else "never ran"
        )
        found.append(
            Finding(
                f"job {job.name}",
                status,
                f"{job.name} {when}; it should run every {job.interval:g} s",
                _scheduler_fix(job.name),
            )
        )
    return found


def _scheduler_fix(name: str) -> str:
    from django_smsgo.services import dispatching

    cron = (
        "Run `python manage.py smsgo_jobs` under a process manager, or "
        "`python manage.py smsgo_jobs --once` from cron every minute."
    )
    if dispatching.mode() != "celery":
        return cron
    scheduled = _beat_tasks()
    if BEAT_TASKS[name] in scheduled:
        return "Celery beat has it scheduled but it has not run: start `celery -A <project> beat`."
    return f"Add {BEAT_TASKS[name]} to the beat schedule (docs/tasks.rst) and run beat; or: {cron}"


def _beat_tasks() -> set[str]:
    """The task names the project schedules: its beat schedule, or django-celery-beat's table."""
    from celery import current_app

    tasks = {str(entry.get("task")) for entry in (current_app.conf.beat_schedule or {}).values()}
    if "django_celery_beat" in settings.INSTALLED_APPS:
        try:
            from django_celery_beat.models import PeriodicTask

            tasks |= set(PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True))
        except (ImportError, DatabaseError):
            pass
    return tasks


# --- database, time zone, HTTPS ---------------------------------------------------------------


def check_database(timeout: float) -> list[Finding]:
    """The default database: SQLite needs a busy timeout and WAL for concurrent callbacks."""
    from django_smsgo.checks import sqlite_options_hint, sqlite_shortcomings

    connection = connections["default"]
    if connection.vendor != "sqlite":
        return [Finding("database", Finding.PASS, f"{connection.vendor}")]
    missing = sqlite_shortcomings(connection.settings_dict.get("OPTIONS") or {})
    if connection.is_in_memory_db():  # type: ignore[attr-defined]  # SQLite only
        # A test run's database: one process, no file to switch to WAL.
        missing = [m for m in missing if m != "WAL mode"]
        if not missing:
            return [Finding("database", Finding.PASS, "SQLite in memory, with a busy timeout")]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = str(cursor.fetchone()[0]).lower()
    if journal == "wal":
        missing = [m for m in missing if m != "WAL mode"]
    elif "WAL mode" not in missing:
        missing.append("WAL mode")
    if missing:
        return [
            Finding(
                "database",
                Finding.WARN,
                f"SQLite (journal mode {journal}) without {' and '.join(missing)}",
                f"Add {sqlite_options_hint()}; for many messages, PostgreSQL.",
            )
        ]
    return [Finding("database", Finding.PASS, "SQLite with a busy timeout and WAL")]


def check_time_zone(timeout: float) -> list[Finding]:
    """Aware datetimes (schedules, expiry, reports) need ``USE_TZ``."""
    if not settings.USE_TZ:
        return [
            Finding(
                "time zone",
                Finding.FAIL,
                "USE_TZ is False: schedules and report times would be read in the wrong zone",
                "Set USE_TZ = True (Django's default since 5.0).",
            )
        ]
    now = timezone.localtime()
    offset = now.utcoffset() or timedelta(0)
    hours = offset.total_seconds() / 3600
    return [
        Finding(
            "time zone",
            Finding.PASS,
            f"USE_TZ on; TIME_ZONE {settings.TIME_ZONE} (UTC{hours:+g}); the admin shows "
            "schedules in Taiwan time",
        )
    ]


def check_https(timeout: float) -> list[Finding]:
    """Where the password and the callback tokens would travel in clear text."""
    from django_smsgo.backends.gateway import is_loopback, plain_http_urls

    found = []
    for name, url in plain_http_urls():
        local = is_loopback(url)
        found.append(
            Finding(
                "https",
                Finding.WARN if local or smsgo_settings.ALLOW_PLAIN_HTTP else Finding.FAIL,
                f"{name} {url} is plain HTTP: the password travels in clear text"
                + (" (on this machine only)" if local else ""),
                "Use https:// for the real gateway (the default API_URL is).",
            )
        )
    base = smsgo_settings.CALLBACK_BASE_URL
    if base is not None and urlsplit(str(base)).scheme != "https":
        found.append(
            Finding(
                "https",
                Finding.WARN,
                f"CALLBACK_BASE_URL {base} is plain HTTP: callback tokens and replies travel "
                "readable",
                "Serve the site over HTTPS in production (docs/security.rst).",
            )
        )
    if not found:
        found.append(Finding("https", Finding.PASS, "gateway and callbacks over HTTPS"))
    return found

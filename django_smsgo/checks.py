"""System checks: configuration mistakes reported by ``manage.py check``, before the first SMS.

Each check id is documented in ``docs/checks.rst``.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from django_smsgo.conf import DEFAULTS, smsgo_settings

GATEWAY_BACKEND = "django_smsgo.backends.gateway.GatewayBackend"
MIN_TOKEN_LENGTH = 32
LARGEST_BATCH_ID = 2**63 - 1  # a BigAutoField's last value: the longest URL we will build


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Unknown keys in ``SMSGO`` (a typo silently falls back to a default otherwise)."""
    configured = getattr(settings, "SMSGO", {}) or {}
    if not isinstance(configured, dict):
        return [Error("SMSGO must be a dict.", id="smsgo.E001")]
    unknown = sorted(set(configured) - set(DEFAULTS))
    if unknown:
        return [
            Error(
                f"Unknown SMSGO setting(s): {', '.join(unknown)}.",
                hint="See docs/settings.rst for the settings django-smsgo reads.",
                id="smsgo.E001",
            )
        ]
    return []


def _settings_are_valid() -> bool:
    try:
        smsgo_settings.user_settings  # noqa: B018 - raises on unknown keys
    except ImproperlyConfigured:
        return False
    return True


@register(Tags.compatibility)
def check_credentials(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The real gateway needs an account."""
    if not _settings_are_valid() or smsgo_settings.BACKEND != GATEWAY_BACKEND:
        return []
    missing = [name for name in ("USERNAME", "PASSWORD") if not smsgo_settings.user_settings[name]]
    if missing:
        return [
            Error(
                f"SMSGO {' and '.join(missing)} not set: the gateway refuses every request (-2).",
                hint="Set them from the environment, or use the console or locmem backend.",
                id="smsgo.E002",
            )
        ]
    return []


@register(Tags.compatibility)
def check_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not _settings_are_valid():
        return []
    try:
        import_string(smsgo_settings.BACKEND)
    except ImportError as exc:
        return [
            Error(
                f"SMSGO BACKEND {smsgo_settings.BACKEND!r} cannot be imported: {exc}.",
                id="smsgo.E003",
            )
        ]
    return []


@register(Tags.security)
def check_api_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The password travels in the query string: over plain HTTP anyone on the path reads it."""
    if not _settings_are_valid() or smsgo_settings.BACKEND != GATEWAY_BACKEND:
        return []
    from django_smsgo.backends.gateway import plain_http_urls, refused_plain_http_urls

    messages: list[CheckMessage] = []
    for name, url in plain_http_urls():
        messages.append(
            Warning(
                f"SMSGO {name} {url!r} is not HTTPS: the account password travels in clear text.",
                hint=f"Use the default {DEFAULTS['API_URL']!r}."
                if name == "API_URL"
                else "Use an https:// host, or None for no failover.",
                id="smsgo.W001",
            )
        )
    for name, url in refused_plain_http_urls():
        messages.append(
            Error(
                f"SMSGO {name} {url!r} is plain HTTP off this machine: every send is refused, "
                "since the password would cross the network readable.",
                hint="Use an https:// URL, or set SMSGO['ALLOW_PLAIN_HTTP'] = True to accept "
                "clear text (the vendor's backup host speaks only HTTP).",
                id="smsgo.E021",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def check_callback_https_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy``: a plain-HTTP callback origin, even with ``DEBUG`` on."""
    if not _settings_are_valid() or not settings.DEBUG:
        return []  # outside DEBUG, check_callbacks reports it on every run
    base_url = smsgo_settings.CALLBACK_BASE_URL
    if base_url is None or urlsplit(str(base_url)).scheme != "http":
        return []
    return [_plain_http_callbacks(str(base_url))]


def _plain_http_callbacks(base_url: str) -> CheckMessage:
    return Warning(
        f"SMSGO CALLBACK_BASE_URL {base_url!r} is not HTTPS: the signed callback URLs "
        "(their tokens) and the receivers' replies can be read on the way.",
        hint="Serve the site over HTTPS and use an https:// origin.",
        id="smsgo.W002",
    )


@register(Tags.security)
def check_callbacks(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The callback origin, the token that signs callback URLs, and the reply URL's length."""
    if not _settings_are_valid() or smsgo_settings.CALLBACK_BASE_URL is None:
        return []
    base_url = smsgo_settings.CALLBACK_BASE_URL
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return [
            Error(
                f"SMSGO CALLBACK_BASE_URL {base_url!r} is not an origin such as "
                "'https://example.com'.",
                hint="No query string or fragment: the gateway appends its own.",
                id="smsgo.E004",
            )
        ]
    messages: list[CheckMessage] = []
    if parts.scheme != "https" and not settings.DEBUG:
        messages.append(_plain_http_callbacks(base_url))
    token = smsgo_settings.CALLBACK_TOKEN or ""
    if not token:
        messages.append(
            Error(
                "SMSGO CALLBACK_TOKEN is empty while CALLBACK_BASE_URL is set: callback URLs "
                "cannot be signed.",
                hint="Set it to a long random string, e.g. from `python -c "
                '"import secrets; print(secrets.token_urlsafe(32))"`.',
                id="smsgo.E005",
            )
        )
        return messages
    if len(token) < MIN_TOKEN_LENGTH:
        messages.append(
            Warning(
                f"SMSGO CALLBACK_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters.",
                hint="A short secret can be guessed; use a long random string.",
                id="smsgo.W003",
            )
        )
    messages.extend(_check_callback_routes())
    return messages


def _check_callback_routes() -> list[CheckMessage]:
    from django_smsgo.services.callback_urls import REPLY_URL_MAX_LENGTH, TOKEN_LENGTH

    try:
        path = reverse(
            "smsgo:reply", kwargs={"batch_id": LARGEST_BATCH_ID, "token": "0" * TOKEN_LENGTH}
        )
    except NoReverseMatch:
        return [
            Error(
                "SMSGO CALLBACK_BASE_URL is set but django_smsgo.urls is not included in the "
                "project's URLconf.",
                hint='Add path("smsgo/", include("django_smsgo.urls")) to urlpatterns.',
                id="smsgo.E006",
            )
        ]
    longest = str(smsgo_settings.CALLBACK_BASE_URL).rstrip("/") + path
    if len(longest) > REPLY_URL_MAX_LENGTH:
        return [
            Error(
                f"The reply URL can reach {len(longest)} characters with this CALLBACK_BASE_URL; "
                f"the gateway accepts at most {REPLY_URL_MAX_LENGTH}.",
                hint="Use a shorter origin or mount django_smsgo.urls under a shorter prefix.",
                id="smsgo.E007",
            )
        ]
    return []


def _string_list_error(name: str, value: object) -> str | None:
    """Why ``value`` is not a list of non-empty strings, or None when it is."""
    if not isinstance(value, list | tuple):
        return f"SMSGO {name} must be a list of strings, got {type(value).__name__}."
    empty = [item for item in value if not isinstance(item, str) or not item.strip()]
    if empty:
        return f"SMSGO {name} holds empty or non-string entries: {empty!r}."
    return None


@register(Tags.security)
def check_callback_access(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The callback allow-list, the proxy header, the previous tokens and the opt-out keywords."""
    if not _settings_are_valid():
        return []
    messages: list[CheckMessage] = []
    networks = smsgo_settings.CALLBACK_ALLOWED_IPS
    if networks is not None:
        problem = _string_list_error("CALLBACK_ALLOWED_IPS", networks)
        if problem is None:
            invalid = [net for net in networks if not _is_network(net)]
            if invalid:
                problem = (
                    f"SMSGO CALLBACK_ALLOWED_IPS holds entries that are not addresses or "
                    f"networks: {invalid!r}."
                )
        if problem:
            messages.append(Error(problem, hint="e.g. ['203.0.113.0/24'].", id="smsgo.E008"))
    if smsgo_settings.CALLBACK_TRUSTED_PROXY_HEADER and networks is None:
        messages.append(
            Warning(
                "SMSGO CALLBACK_TRUSTED_PROXY_HEADER is set without CALLBACK_ALLOWED_IPS: "
                "the header is only read to check the allow-list, so it does nothing.",
                id="smsgo.W004",
            )
        )
    for name, check_id in (
        ("CALLBACK_PREVIOUS_TOKENS", "smsgo.E009"),
        ("OPT_OUT_KEYWORDS", "smsgo.E010"),
    ):
        problem = _string_list_error(name, smsgo_settings.user_settings[name])
        if problem:
            messages.append(Error(problem, id=check_id))
    return messages


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


TEST_BACKENDS = (
    "django_smsgo.backends.console.ConsoleBackend",
    "django_smsgo.backends.locmem.LocmemBackend",
)
NON_NEGATIVE_INTEGERS = (
    "DUPLICATE_WINDOW",
    "SEND_RETRY_MAX",
    "SEND_RETRY_BACKOFF",
    "ENQUEUE_SWEEP_AGE",
    "POLL_MIN_AGE",
    "POLL_MAX_AGE",
    "LOW_BALANCE_THRESHOLD",
)
POSITIVE_INTEGERS = (
    "CLAIM_LEASE",
    "DISPATCH_TASKS",
    "DISPATCH_CONNECTIONS",
    "POLL_BATCH_SIZE",
    "POLL_WRITERS",
    "REPLY_DAYS",
)


@register(Tags.compatibility)
def check_sending(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Encoding, staging override, queues, numbers and the claim lease."""
    if not _settings_are_valid():
        return []
    from django_smsgo.client.encodings import Encoding
    from django_smsgo.client.numbers import normalize_numbers
    from django_smsgo.exceptions import SmsgoValidationError

    messages: list[CheckMessage] = []
    values = smsgo_settings.user_settings
    if values["DEFAULT_ENCODING"] is not None:
        try:
            Encoding.parse(values["DEFAULT_ENCODING"])
        except SmsgoValidationError as exc:
            messages.append(Error(f"SMSGO DEFAULT_ENCODING: {exc}", id="smsgo.E011"))
    if values["OVERRIDE_RECIPIENTS"]:
        try:
            normalize_numbers(values["OVERRIDE_RECIPIENTS"])
        except SmsgoValidationError as exc:
            messages.append(Error(f"SMSGO OVERRIDE_RECIPIENTS: {exc}", id="smsgo.E012"))
    unknown = set(values["PRIORITY_QUEUES"] or {}) - {"high", "normal", "low"}
    if unknown:
        messages.append(
            Error(
                f"SMSGO PRIORITY_QUEUES has unknown priorities: {', '.join(sorted(unknown))}.",
                hint="The priorities are 'high', 'normal' and 'low'.",
                id="smsgo.E013",
            )
        )
    for name in (*NON_NEGATIVE_INTEGERS, *POSITIVE_INTEGERS):
        value, least = values[name], 1 if name in POSITIVE_INTEGERS else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            messages.append(
                Error(
                    f"SMSGO {name} must be a whole number ≥ {least}, got {value!r}.",
                    id="smsgo.E014",
                )
            )
    request_time = float(values["CONNECT_TIMEOUT"]) + float(values["READ_TIMEOUT"])
    if isinstance(values["CLAIM_LEASE"], int) and values["CLAIM_LEASE"] <= 2 * request_time:
        messages.append(
            Warning(
                f"SMSGO CLAIM_LEASE ({values['CLAIM_LEASE']} s) is not more than twice a request's "
                f"timeouts ({request_time:g} s): a slow but living worker's batch could be "
                "declared uncertain.",
                id="smsgo.W005",
            )
        )
    if values["BACKEND"] in TEST_BACKENDS and not settings.DEBUG:
        messages.append(
            Warning(
                f"SMSGO BACKEND is {values['BACKEND']!r} with DEBUG off: "
                "no SMS reaches the gateway.",
                hint="Fine for a test run or a staging site; not for production.",
                id="smsgo.W006",
            )
        )
    return messages


@register(Tags.compatibility)
def check_carrier_rules(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Taiwan's carrier rules and the marketing duties (docs/taiwan.rst)."""
    if not _settings_are_valid():
        return []
    values = smsgo_settings.user_settings
    return [
        *_check_sender_tag(values),
        *_check_registered(values),
        *_check_quiet_hours(values),
        *_check_keywords_and_footer(values),
        *_check_budget(values),
    ]


def _kinds_error(name: str, value: object) -> str | None:
    kinds = ("transactional", "marketing")
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        item in kinds for item in value
    ):
        return f"SMSGO {name} must be a list of message kinds ({', '.join(kinds)}), got {value!r}."
    return None


def _check_sender_tag(values: dict[str, Any]) -> list[CheckMessage]:
    from django_smsgo.services.carrier_rules.sender_tag import MODES

    messages: list[CheckMessage] = []
    mode, tag = values["SENDER_TAG_MODE"], values["SENDER_TAG"]
    if mode is not None and mode not in MODES:
        messages.append(
            Error(
                f"SMSGO SENDER_TAG_MODE {mode!r} is not None, 'require' or 'prefix'.",
                id="smsgo.E016",
            )
        )
    elif mode is not None and (not isinstance(tag, str) or not tag.strip()):
        messages.append(
            Error(
                f"SMSGO SENDER_TAG_MODE is {mode!r} but SENDER_TAG is not set: carriers block "
                "business SMS that do not name the sender.",
                hint="Set SENDER_TAG to the sender name registered with the carriers, "
                "e.g. '【好物商店】'.",
                id="smsgo.E015",
            )
        )
    problem = _kinds_error("SENDER_TAG_KINDS", values["SENDER_TAG_KINDS"])
    if problem:
        messages.append(Error(problem, id="smsgo.E016"))
    if isinstance(tag, str) and any(
        "\uff01" <= char <= "\uff5e" and char.isalnum() for char in tag
    ):
        messages.append(
            Warning(
                f"SMSGO SENDER_TAG {tag!r} spells letters or digits in full width: a vendor "
                "notice asks for the sender name in half-width characters, as registered.",
                id="smsgo.W007",
            )
        )
    return messages


def _check_registered(values: dict[str, Any]) -> list[CheckMessage]:
    from django_smsgo.services.carrier_rules.links import parse_registered_links
    from django_smsgo.services.carrier_rules.numbers import parse_registered_numbers

    messages: list[CheckMessage] = []
    for name, parse in (
        ("REGISTERED_LINKS", parse_registered_links),
        ("REGISTERED_NUMBERS", parse_registered_numbers),
    ):
        value = values[name]
        if value is None:
            continue
        problem = _string_list_error(name, value)
        if problem is None:
            try:
                parse(value)
            except ValueError as exc:
                problem = f"SMSGO {exc}"
        if problem:
            messages.append(Error(problem, id="smsgo.E017"))
    for name in ("SHORT_LINK_HOSTS",):
        problem = _string_list_error(name, values[name])
        if problem:
            messages.append(Error(problem, id="smsgo.E017"))
    problem = _kinds_error("LINK_CHECK_KINDS", values["LINK_CHECK_KINDS"])
    if problem:
        messages.append(Error(problem, id="smsgo.E017"))
    return messages


def _check_quiet_hours(values: dict[str, Any]) -> list[CheckMessage]:
    from datetime import datetime, timedelta

    from django_smsgo.services.carrier_rules.quiet_hours import (
        SCHEDULED_POLICIES,
        TAIPEI,
        is_quiet,
        parse_quiet_hours,
    )

    messages: list[CheckMessage] = []
    if values["QUIET_HOURS_SCHEDULED"] not in SCHEDULED_POLICIES:
        messages.append(
            Error(
                f"SMSGO QUIET_HOURS_SCHEDULED {values['QUIET_HOURS_SCHEDULED']!r} is not "
                "'move' or 'refuse'.",
                id="smsgo.E018",
            )
        )
    try:
        ranges = parse_quiet_hours(values["QUIET_HOURS"])
    except (TypeError, ValueError) as exc:
        messages.append(Error(f"SMSGO {exc}", hint="e.g. [('21:00', '09:00')].", id="smsgo.E018"))
        return messages
    if ranges:
        midnight = datetime(2025, 1, 1, tzinfo=TAIPEI)
        if all(is_quiet(midnight + timedelta(minutes=m), ranges) for m in range(24 * 60)):
            messages.append(
                Error(
                    "SMSGO QUIET_HOURS cover the whole day: no marketing SMS could ever be sent.",
                    id="smsgo.E018",
                )
            )
    return messages


def _check_keywords_and_footer(values: dict[str, Any]) -> list[CheckMessage]:
    from django_smsgo.services.replies import keyword_form

    messages: list[CheckMessage] = []
    problem = _string_list_error("OPT_IN_KEYWORDS", values["OPT_IN_KEYWORDS"])
    if problem:
        messages.append(Error(problem, id="smsgo.E019"))
    elif not _string_list_error("OPT_OUT_KEYWORDS", values["OPT_OUT_KEYWORDS"]):
        both = {keyword_form(k) for k in values["OPT_OUT_KEYWORDS"]} & {
            keyword_form(k) for k in values["OPT_IN_KEYWORDS"]
        }
        if both:
            messages.append(
                Error(
                    f"SMSGO OPT_OUT_KEYWORDS and OPT_IN_KEYWORDS share {sorted(both)!r}: a reply "
                    "cannot both refuse and ask for marketing SMS.",
                    id="smsgo.E019",
                )
            )
    footer = values["OPT_OUT_FOOTER"]
    if not isinstance(footer, str):
        messages.append(Error("SMSGO OPT_OUT_FOOTER must be a string.", id="smsgo.E019"))
    elif footer.strip() and values["CALLBACK_BASE_URL"] is None:
        messages.append(
            Warning(
                "SMSGO OPT_OUT_FOOTER is set but CALLBACK_BASE_URL is not: replies never reach "
                "the project, so an opt-out asked for by reply is not seen.",
                hint="Set CALLBACK_BASE_URL and send marketing SMS with reply=True, or offer "
                "another way to refuse in the footer (a registered link or number).",
                id="smsgo.W008",
            )
        )
    return messages


def _check_budget(values: dict[str, Any]) -> list[CheckMessage]:
    budget = values["POINTS_BUDGET"]
    messages: list[CheckMessage] = []
    ratio = values["POINTS_BUDGET_WARNING"]
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
        messages.append(
            Error(
                f"SMSGO POINTS_BUDGET_WARNING must be a share between 0 and 1, got {ratio!r}.",
                id="smsgo.E020",
            )
        )
    if budget is None:
        return messages
    example = "e.g. {'marketing': {'day': 5000, 'month': 80000}}"
    if not isinstance(budget, dict):
        return [
            *messages,
            Error(f"SMSGO POINTS_BUDGET must be a dict, {example}.", id="smsgo.E020"),
        ]
    for kind, caps in budget.items():
        if kind not in ("transactional", "marketing") or not isinstance(caps, dict):
            messages.append(
                Error(
                    f"SMSGO POINTS_BUDGET entry {kind!r}: {caps!r} is not valid; {example}.",
                    id="smsgo.E020",
                )
            )
            continue
        for period, cap in caps.items():
            if (
                period not in ("day", "month")
                or isinstance(cap, bool)
                or not isinstance(cap, int)
                or cap < 0
            ):
                messages.append(
                    Error(
                        f"SMSGO POINTS_BUDGET[{kind!r}][{period!r}] = {cap!r}: periods are 'day' "
                        "and 'month', caps whole numbers of points ≥ 0.",
                        id="smsgo.E020",
                    )
                )
    return messages


@register(Tags.compatibility)
def check_dispatch(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A dispatch mode that cannot work: every send would be refused."""
    if not _settings_are_valid():
        return []
    from django_smsgo.exceptions import SmsgoConfigurationError
    from django_smsgo.services import dispatching

    try:
        dispatching.check_ready()
    except SmsgoConfigurationError as exc:
        return [
            Error(
                str(exc),
                hint='Without a broker, SMSGO["DISPATCH"] = "inline" sends from the process '
                "that stored the message; manage.py smsgo_jobs runs the retries and the sweeper.",
                id="smsgo.E022",
            )
        ]
    return []


#: Seconds a SQLite writer waits for another before "database is locked".
SQLITE_TIMEOUT = 20


def sqlite_options_hint() -> str:
    """The SQLite ``OPTIONS`` to add, for the running Django version."""
    import django

    if django.VERSION >= (5, 1):
        return (
            f'DATABASES["default"]["OPTIONS"] = {{"timeout": {SQLITE_TIMEOUT}, '
            '"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}'
        )
    return (
        f'DATABASES["default"]["OPTIONS"] = {{"timeout": {SQLITE_TIMEOUT}}}, and switch the '
        "database file to WAL once: manage.py dbshell, then PRAGMA journal_mode=WAL;"
    )


def sqlite_shortcomings(options: dict[str, Any]) -> list[str]:
    """What a SQLite database's ``OPTIONS`` lack for concurrent writers (reports, workers)."""
    import django

    missing = []
    timeout = options.get("timeout")
    if not isinstance(timeout, int | float) or timeout < SQLITE_TIMEOUT / 2:
        missing.append("a busy timeout")
    init = str(options.get("init_command") or "").lower().replace(" ", "")
    if django.VERSION >= (5, 1) and "journal_mode=wal" not in init:
        missing.append("WAL mode")
    return missing


@register(Tags.compatibility)
def check_sqlite(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """SQLite without a busy timeout or WAL loses callbacks under concurrent writes."""
    messages: list[CheckMessage] = []
    for alias, config in settings.DATABASES.items():
        if not str(config.get("ENGINE", "")).endswith("sqlite3"):
            continue
        missing = sqlite_shortcomings(config.get("OPTIONS") or {})
        if missing:
            messages.append(
                Warning(
                    f"Database {alias!r} is SQLite without {' and '.join(missing)}: concurrent "
                    "delivery reports and workers can meet 'database is locked'.",
                    hint=f"Add {sqlite_options_hint()}. See docs/troubleshooting.rst.",
                    id="smsgo.W009",
                )
            )
    return messages


@register(Tags.database)
def check_periodic_jobs(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """The sweeper and polling must run (beat or smsgo_jobs); read from their last runs.

    A database check: ``migrate`` and ``check --database default`` run it.
    """
    if not databases or not _settings_are_valid():
        return []
    from django.db import DatabaseError

    from django_smsgo.services import jobs

    try:
        stopped = [job.name for job in jobs.health() if job.name != "balance" and not job.running]
    except DatabaseError:
        return []  # not migrated yet
    if not stopped:
        return []
    return [
        Warning(
            f"django-smsgo's periodic jobs have not run lately: {', '.join(stopped)}. Without "
            "them a lost report leaves its recipient submitted for good, and retries and lost "
            "dispatches wait forever.",
            hint="Run manage.py smsgo_jobs (under a process manager, or --once from cron every "
            "minute), or schedule the tasks in Celery beat (docs/tasks.rst).",
            id="smsgo.W010",
        )
    ]

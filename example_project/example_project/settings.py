"""Settings of the example project, read from environment variables.

With no environment at all it runs on one machine with no server: SQLite in
``example_project/db.sqlite3``, Celery on kombu's filesystem transport (the
queue is a folder, ``example_project/.broker/``) and the bundled gateway
simulator at ``http://127.0.0.1:8765/sms_gw/`` as the gateway.

Set ``DATABASE_URL`` (e.g. ``postgres://user@host/db``) and
``CELERY_BROKER_URL`` (e.g. ``redis://host:6379/0`` or ``amqp://...``) to run
the same project on PostgreSQL and Redis or RabbitMQ; nothing else changes.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import django

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """The environment variable ``name``, or ``default`` when it is unset or empty."""
    return os.environ.get(name) or default


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if not value:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


SECRET_KEY = env("DJANGO_SECRET_KEY", "example-project-only-never-use-in-production")
DEBUG = env_flag("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_smsgo",
    "django_smsgo.codes",
    "verification",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def database() -> dict[str, Any]:
    """``DATABASE_URL`` when set, else SQLite tuned for a web server and a worker at once."""
    url = env("DATABASE_URL")
    if url:
        import dj_database_url

        return dj_database_url.parse(url, conn_max_age=60)
    options: dict[str, Any] = {"timeout": 30}
    if django.VERSION >= (5, 1):
        # Several processes write (the web server for callbacks, the worker for
        # dispatch): WAL lets readers go on while one writes, and IMMEDIATE takes
        # the write lock when a transaction begins instead of failing half-way.
        options["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
        options["transaction_mode"] = "IMMEDIATE"
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("EXAMPLE_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": options,
    }


DATABASES = {"default": database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文")]
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "admin:login"

# -- Celery ---------------------------------------------------------------------------
# Without CELERY_BROKER_URL the queue is a folder (kombu's filesystem transport):
# a worker on the same machine needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(env("EXAMPLE_BROKER_DIR", str(BASE_DIR / ".broker")))
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        # Broadcast (remote control) messages too, or kombu writes them to
        # ./control in whatever directory the worker was started from.
        "control_folder": str(_queue_dir / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env_flag("CELERY_TASK_ALWAYS_EAGER", False)
# A queue name of its own keeps this project's tasks apart on a shared broker.
CELERY_TASK_DEFAULT_QUEUE = env("EXAMPLE_CELERY_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Periodic work for ``celery -A example_project beat``: poll the statuses
# Phase Two did not bring, settle abandoned claims, and watch the balance.
CELERY_BEAT_SCHEDULE = {
    "smsgo-poll": {"task": "django_smsgo.tasks.poll_delivery_status", "schedule": 300.0},
    "smsgo-sweep": {"task": "django_smsgo.tasks.sweep", "schedule": 60.0},
    "smsgo-balance": {"task": "django_smsgo.tasks.refresh_balance", "schedule": 1800.0},
}

# -- django-smsgo ---------------------------------------------------------------------
SIMULATOR_URL = "http://127.0.0.1:8765/sms_gw/"

SMSGO = {
    "USERNAME": env("SMSGO_USERNAME", "demo"),
    "PASSWORD": env("SMSGO_PASSWORD", "demo"),
    # The bundled simulator unless told otherwise; the backup host defaults to
    # the same URL so that a development machine never fails over to the real
    # gateway.
    "API_URL": env("SMSGO_API_URL", SIMULATOR_URL),
    "BACKUP_API_URL": env("SMSGO_BACKUP_API_URL", env("SMSGO_API_URL", SIMULATOR_URL)),
    # The public origin the gateway calls back (Phase-Two reports and replies);
    # unset: statuses come from polling only.
    "CALLBACK_BASE_URL": env("SMSGO_CALLBACK_BASE_URL") or None,
    "CALLBACK_TOKEN": env(
        "SMSGO_CALLBACK_TOKEN", "example-project-callback-token-change-me-in-production"
    ),
    "CALLBACK_PREVIOUS_TOKENS": [t for t in env("SMSGO_CALLBACK_PREVIOUS_TOKENS").split(",") if t],
    # One-time codes (verification/): who sends them, and what they may cost.
    "OTP_SENDER_TAG": env("SMSGO_OTP_SENDER_TAG", "Example"),
    "OTP_DAILY_BUDGET": 500,
}

# -- Two-factor login ---------------------------------------------------------------
# EXAMPLE_TWO_FACTOR=1 turns on django-two-factor-auth (pip install
# "django-smsgo[two-factor]") at /account/login/; its tokens go out through
# django-smsgo because of the one line TWO_FACTOR_SMS_GATEWAY below.
TWO_FACTOR = env_flag("EXAMPLE_TWO_FACTOR", False) and bool(find_spec("two_factor"))
if TWO_FACTOR:
    INSTALLED_APPS += [
        "django_otp",
        "django_otp.plugins.otp_static",
        "django_otp.plugins.otp_totp",
        "formtools",
        "phonenumber_field",
        "two_factor",
        "two_factor.plugins.phonenumber",
    ]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "django_otp.middleware.OTPMiddleware",
    )
    TWO_FACTOR_SMS_GATEWAY = "django_smsgo.integrations.two_factor.SmsgoGateway"
    LOGIN_URL = "two_factor:login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_smsgo": {"handlers": ["console"], "level": env("SMSGO_LOG_LEVEL", "INFO")}},
}

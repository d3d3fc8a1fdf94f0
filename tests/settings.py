"""Settings for the test suite.

Without DATABASE_URL / CELERY_BROKER_URL the suite runs on SQLite with Celery
in eager mode and needs no server; CI sets both to run again on PostgreSQL and
Redis.
"""

import os

import dj_database_url

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Asia/Taipei"
LANGUAGE_CODE = "en"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_smsgo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

SQLITE_URL = "sqlite:///" + os.path.join(os.path.dirname(__file__), "test.sqlite3")
DATABASES = {
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL", SQLITE_URL), conn_max_age=0)
}
# SQLite tests run in memory; SQLITE_TEST_FILE puts the test database in a file
# instead, for the tests that need SQLite's real locking between connections
# (an in-memory database shares one cache and fails at once where a file waits).
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_FILE") or None}

STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = "CELERY_BROKER_URL" not in os.environ
CELERY_TASK_EAGER_PROPAGATES = True

SMSGO = {
    "USERNAME": "tester",
    "PASSWORD": "s3cret-Pa55word",
    "CALLBACK_TOKEN": "test-callback-token-with-enough-entropy",
}

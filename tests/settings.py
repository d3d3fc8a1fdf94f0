"""Settings for the test suite.

Without DATABASE_URL / CELERY_BROKER_URL the suite runs on SQLite with Celery
in eager mode and needs no server; CI sets both to run again on PostgreSQL and
Redis.
"""

import os
from importlib.util import find_spec

import dj_database_url
import django

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
    "django_smsgo.codes",
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

# The integrations' libraries, when installed (the [dev] extra has them all;
# the nox sessions install one at a time).
if find_spec("django_otp"):
    INSTALLED_APPS += [
        "django_otp",
        "django_otp.plugins.otp_static",
        "django_otp.plugins.otp_totp",
        "django_smsgo.integrations.otp",
    ]
if find_spec("two_factor") and find_spec("formtools") and find_spec("phonenumber_field"):
    INSTALLED_APPS += [
        "formtools",
        "phonenumber_field",
        "two_factor",
        "two_factor.plugins.phonenumber",
    ]
    # Read when two_factor's phone plugin starts: it offers SMS only with a gateway.
    TWO_FACTOR_SMS_GATEWAY = "django_smsgo.integrations.two_factor.SmsgoGateway"
    # two_factor sends the admin's login to its own by default; the admin tests
    # log in through the admin's.
    TWO_FACTOR_PATCH_ADMIN = False
elif find_spec("phonenumber_field"):
    INSTALLED_APPS += ["phonenumber_field"]
if find_spec("allauth"):
    INSTALLED_APPS += ["allauth", "allauth.account"]
    MIDDLEWARE += ["allauth.account.middleware.AccountMiddleware"]
    # Phone login, read when allauth's URLs are imported (tests/integrations/urls.py).
    ACCOUNT_LOGIN_METHODS = {"phone"}
    ACCOUNT_SIGNUP_FIELDS = ["phone*"]
    ACCOUNT_ADAPTER = "tests.integrations.allauth_adapter.PhoneAccountAdapter"
    AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ]
if find_spec("django_celery_beat"):
    INSTALLED_APPS += ["django_celery_beat"]

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
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # What docs/quickstart.rst tells projects on SQLite (system check smsgo.W009).
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    if django.VERSION >= (5, 1):
        DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL;"

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

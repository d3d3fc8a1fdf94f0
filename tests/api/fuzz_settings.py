"""Settings of the schemathesis run: the test settings, the API at /smsgo/api/, a file database.

``run_schemathesis.py`` sets ``SMSGO_FUZZ_DATABASE`` (an SQLite file) and
``SMSGO_FUZZ_GATEWAY`` (the simulator's base URL) before Django starts.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, SMSGO

ROOT_URLCONF = "tests.api.urls"
# Only what the API needs: the run must not depend on the other parts of the suite.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django.contrib.admin"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SMSGO_FUZZ_DATABASE", ":memory:"),
        # Requests are served by threads; wait for a writer instead of failing.
        "OPTIONS": {"timeout": 30},
    }
}

# Dispatch runs in the request thread, against the simulator.
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

SMSGO: dict[str, object] = {  # type: ignore[no-redef]
    **SMSGO,
    "API_URL": os.environ.get("SMSGO_FUZZ_GATEWAY", "http://127.0.0.1:9/sms_gw/"),
    "BACKUP_API_URL": os.environ.get("SMSGO_FUZZ_GATEWAY", "http://127.0.0.1:9/sms_gw/"),
    # Thousands of generated sends a minute: the throttle has its own tests.
    "API_SEND_THROTTLE_RATE": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # 4xx answers are the point of the run; only server errors are worth a line.
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}

# Every generated request authenticates with HTTP basic auth: a slow password
# hash would spend the run's time budget on hashing. The user is throwaway.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

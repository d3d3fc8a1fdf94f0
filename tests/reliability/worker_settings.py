"""Settings of the worker processes the reliability suite starts.

The test settings, with the ``SMSGO`` keys the scenario passes in
``RELIABILITY_SMSGO`` (JSON): the simulator's URL, short leases and backoffs;
and the ``CELERY_*`` settings it passes in ``RELIABILITY_CELERY`` (JSON, names
without the prefix, e.g. ``{"BROKER_TRANSPORT_OPTIONS": {...}}``).
"""

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import SMSGO as BASE_SMSGO

SMSGO = {**BASE_SMSGO, **json.loads(os.environ.get("RELIABILITY_SMSGO", "{}"))}
# Persistent connections, as a production server keeps them (health-checked, so a
# connection the database dropped is replaced instead of failing a request).
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
for _name, _value in json.loads(os.environ.get("RELIABILITY_CELERY", "{}")).items():
    globals()[f"CELERY_{_name}"] = _value
CELERY_TASK_ALWAYS_EAGER = False
ROOT_URLCONF = "tests.reliability.urls"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Warnings and errors to stderr: the workers' output is kept and scanned for secrets.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

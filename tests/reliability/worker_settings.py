"""Settings of the worker processes the reliability suite starts.

The test settings, with the ``SMSGO`` keys the scenario passes in
``RELIABILITY_SMSGO`` (JSON): the simulator's URL, short leases and backoffs.
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
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "CRITICAL"},
}

"""Settings of the Celery worker processes the worker tests start.

The test settings, with the gateway, lease and broker options the test passes
through the environment (the worker runs against the test database, whose
name pytest-django chose, and the simulator the test started).
"""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import SMSGO

SMSGO = {**SMSGO, **json.loads(os.environ.get("SMSGO_TEST_OVERRIDES", "{}"))}

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": float(os.environ.get("SMSGO_TEST_VISIBILITY_TIMEOUT", "3600")),
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

"""Settings of the benchmark project: the test project on PostgreSQL and Redis.

Read from the environment the runner sets: ``BENCH_DATABASE_URL``,
``BENCH_BROKER_URL``, ``BENCH_API_URL`` (the simulator) and ``BENCH_EAGER``
(run tasks in-process, for the memory benchmark).
"""

import os

import dj_database_url

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smsgo_bench"),
        conn_max_age=600,
    )
}
ROOT_URLCONF = "bench_urls"
CELERY_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")
CELERY_TASK_ALWAYS_EAGER = os.environ.get("BENCH_EAGER") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The simulator listens on plain HTTP on loopback.
SILENCED_SYSTEM_CHECKS = ["smsgo.W001"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "ERROR"},
}
SMSGO = {
    "USERNAME": "bench",
    "PASSWORD": "bench-password",
    "API_URL": os.environ.get("BENCH_API_URL", "http://127.0.0.1:9/sms_gw/"),
    "BACKUP_API_URL": None,
    "CALLBACK_BASE_URL": None,
    "CALLBACK_TOKEN": "benchmark-callback-token-0123456789abcdef",
    # Requests in flight per dispatch run (the benchmarks set 1, 2 and 4).
    "DISPATCH_CONNECTIONS": int(os.environ.get("BENCH_DISPATCH_CONNECTIONS", "2")),
}

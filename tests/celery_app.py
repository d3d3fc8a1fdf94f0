"""The test project's Celery app (a project owns its app; django-smsgo only has shared tasks).

Configured from Django settings (``CELERY_*``): eager without
``CELERY_BROKER_URL``, a real broker with it. Workers for the worker tests run
``celery -A tests.celery_app worker``.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tests", include=["django_smsgo.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.set_default()

"""The project's Celery app: settings come from Django's ``CELERY_*`` settings.

Start a worker with ``celery -A example_project worker -l info`` from this
directory (``example_project/``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

app = Celery("example_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""The example project: a small site that uses django-smsgo the way a real one would."""

# Load the Celery app with Django, so that ``shared_task`` binds to it.
from .celery import app as celery_app

__all__ = ["celery_app"]

"""WSGI entry of the test project, for the gunicorn the callback scenarios start."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.reliability.worker_settings")
application = get_wsgi_application()

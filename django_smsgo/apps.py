import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class SmsgoConfig(AppConfig):
    name = "django_smsgo"
    verbose_name = _("SMS (smsgo)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_smsgo import (
            checks,  # noqa: F401 - registers the system checks
            log_filters,
        )
        from django_smsgo.services import dispatching

        log_filters.install()

        if dispatching.celery_installed():
            # Celery is optional: its tasks are wired in only when it imports.
            try:
                from django_smsgo import tasks
            except ImportError as exc:
                logger.warning("Celery is installed but cannot be imported: %s", exc)
            else:
                dispatching.install_celery(tasks.CeleryDispatcher())

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsgoConfig(AppConfig):
    name = "django_smsgo"
    verbose_name = _("SMS (smsgo)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_smsgo import checks  # noqa: F401 - registers the system checks

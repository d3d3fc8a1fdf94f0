from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    """One-time codes by SMS (``send_otp``/``verify_otp``); needs ``django_smsgo`` too."""

    name = "django_smsgo.codes"
    label = "smsgo_codes"
    verbose_name = _("SMS one-time codes")
    default_auto_field = "django.db.models.BigAutoField"

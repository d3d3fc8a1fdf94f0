from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OtpSmsgoConfig(AppConfig):
    """django-otp's SMS device through smsgo; needs ``django_otp`` and ``django_smsgo``."""

    name = "django_smsgo.integrations.otp"
    label = "otp_smsgo"
    verbose_name = _("OTP by SMS (smsgo)")
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    """One-time codes by SMS (``send_otp``/``verify_otp``); needs ``django_smsgo`` too."""

    name = "django_smsgo.codes"
    label = "smsgo_codes"
    verbose_name = _("SMS one-time codes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The core's cleanup and send log learn of the codes' tables from here,
        # so the core never imports this app.
        from django_smsgo.codes import privacy
        from django_smsgo.services import retention, send_log

        retention.register_steps(privacy.cleanup_steps)
        send_log.register_withheld(privacy.is_code_text)

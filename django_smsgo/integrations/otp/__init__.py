"""django-otp: an SMS device sent through django-smsgo, in its own app.

``INSTALLED_APPS += ["django_otp", "django_smsgo.integrations.otp"]`` and
migrate; then :class:`~django_smsgo.integrations.otp.models.SmsgoDevice` is a
django-otp device like ``EmailDevice``, with a cooldown between challenges and
exponential throttling of wrong tokens. Settings ``OTP_SMSGO_*``
(:mod:`django_smsgo.integrations.otp.conf`).
"""

"""django-two-factor-auth: ``TWO_FACTOR_SMS_GATEWAY`` pointing at :class:`SmsgoGateway`.

``TWO_FACTOR_SMS_GATEWAY = "django_smsgo.integrations.two_factor.SmsgoGateway"``.
"""

from django_smsgo.integrations.two_factor.gateway import ChallengeNotSent, SmsgoGateway

__all__ = ["ChallengeNotSent", "SmsgoGateway"]

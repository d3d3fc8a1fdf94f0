"""django-allauth phone login (65.5+): :class:`SmsgoPhoneAdapterMixin` sends its texts."""

from django_smsgo.integrations.allauth.adapter import SmsgoPhoneAdapterMixin

__all__ = ["SmsgoPhoneAdapterMixin"]

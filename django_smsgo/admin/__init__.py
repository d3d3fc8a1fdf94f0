"""The Django admin as the staff's SMS console.

Importing this package (Django's admin autodiscovery does) registers the
message console, the read-only delivery reports, replies and balance history,
the opt-out list and its log of refusals, and the saved texts (常用簡訊) on the
default admin site.
"""

from django.contrib import admin

from django_smsgo.admin import consent, reports, saved_texts
from django_smsgo.admin.messages import MessageAdmin
from django_smsgo.models import Message

admin.site.register(Message, MessageAdmin)
reports.register(admin.site)
consent.register(admin.site)
saved_texts.register(admin.site)

__all__ = ["MessageAdmin"]

"""The SMS devices in the admin, next to django-otp's own devices."""

from __future__ import annotations

from django.contrib import admin

from django_smsgo.integrations.otp.models import SmsgoDevice


@admin.register(SmsgoDevice)
class SmsgoDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "number", "confirmed"]
    search_fields = ["name", "number"]
    raw_id_fields = ["user"]
    exclude = ["token"]
    readonly_fields = ["valid_until", "last_generated_timestamp", "throttling_failure_count"]

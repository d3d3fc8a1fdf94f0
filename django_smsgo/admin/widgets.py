"""Form widgets of the compose page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_smsgo.admin.stats import TAIPEI


class TaipeiDateTimeWidget(forms.MultiWidget):
    """A date and a time input, read and shown in Asia/Taipei whatever TIME_ZONE is."""

    template_name = "django_smsgo/admin/widgets/taipei_datetime.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = (
            forms.DateInput(attrs={"type": "date", "class": "smsgo-date"}, format="%Y-%m-%d"),
            forms.TimeInput(attrs={"type": "time", "class": "smsgo-time"}, format="%H:%M"),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, datetime):
            local = timezone.localtime(value, TAIPEI) if timezone.is_aware(value) else value
            return [local.date(), local.time().replace(second=0, microsecond=0)]
        return [None, None]


class TaipeiDateTimeField(forms.MultiValueField):
    """An aware datetime entered as a date and a time in Asia/Taipei (the gateway's clock)."""

    widget = TaipeiDateTimeWidget
    default_error_messages = {
        "incomplete": _("Give both the date and the time, or neither."),
    }

    def __init__(self, **kwargs: Any) -> None:
        fields = (
            forms.DateField(input_formats=["%Y-%m-%d", "%Y/%m/%d"]),
            forms.TimeField(input_formats=["%H:%M", "%H:%M:%S"]),
        )
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[Any]) -> datetime | None:
        if not data_list or not any(data_list):
            return None
        if len(data_list) < 2 or data_list[0] is None or data_list[1] is None:
            raise ValidationError(self.error_messages["incomplete"], code="incomplete")
        day, moment = data_list
        return datetime.combine(day, moment, tzinfo=TAIPEI)

"""Columns of the message list that make it fit: recipients and sent time.

At 1280 px the list shows the message, its text, status, delivery, recipients,
points, schedule and sent time without sideways scrolling; on a phone
(``log.css``) the message, its recipients and its status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from django_smsgo.admin.stats import taipei_time
from django_smsgo.models import Message

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _Base = ModelAdmin[Message]
else:
    _Base = object


class ListColumnsMixin(_Base):
    """The recipients and sent-time columns of the message list."""

    @admin.display(description=_("recipients"), ordering="recipient_count")
    def recipients(self, message: Message) -> str:
        return f"{message.recipient_count:,}"

    @admin.display(description=_("sent (Taiwan)"), ordering="submitted_at")
    def sent(self, message: Message) -> str:
        return taipei_time(message.submitted_at) or "—"

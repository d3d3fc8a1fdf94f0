"""The vocabulary a project's receivers speak: an outgoing SMS, and normalised events.

:class:`OutgoingSms` is what ``pre_send`` receivers may change before a send is
validated and stored. :class:`EventType` names what happened to a recipient in
the words django-anymail uses for e-mail (``queued``, ``sent``, ``delivered``,
``failed``, ``rejected``…), so one receiver can serve both; :func:`event_for_state`
maps the gateway's states (table 2 of the vendor document) onto them, and
:class:`SmsEvent` carries one event with the raw report kept beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass
class OutgoingSms:
    """A send as ``send_sms()`` was asked for it, before validation; receivers may change it.

    ``numbers`` as given (normalised later), ``body``, ``options`` the other
    keyword arguments of ``send_sms()`` (``priority``, ``kind``, ``send_at``…),
    ``metadata`` a JSON object and ``tags`` a list of short strings the project
    ties to the message.
    """

    numbers: list[Any]
    body: str
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


class EventType(StrEnum):
    """What happened to an SMS, in django-anymail's words."""

    QUEUED = "queued"  # stored, waiting for dispatch or for its scheduled time
    SENT = "sent"  # the gateway accepted it (a msgid), no final state yet
    DELIVERED = "delivered"  # DELIVRD: it reached the handset
    FAILED = "failed"  # it will not reach the handset (expired, undeliverable, absent…)
    REJECTED = "rejected"  # refused: by the gateway, as spam, or blocked by the receiver
    UNKNOWN = "unknown"  # a state the vendor document does not list


#: Table 2's final states and the intermediate ones we know, as events.
STATE_EVENTS: dict[str, EventType] = {
    "DELIVRD": EventType.DELIVERED,
    "EXPIRED": EventType.FAILED,
    "DELETED": EventType.FAILED,
    "UNDELIV": EventType.FAILED,
    "ABSENT": EventType.FAILED,
    # Read by customer service on the receiver's behalf: final, but never on the handset.
    "ACCEPTD": EventType.FAILED,
    "UNKNOWN": EventType.UNKNOWN,
    "SYNTAXE": EventType.REJECTED,
    "REJECTD": EventType.REJECTED,
    "SPAM": EventType.REJECTED,
    "BLOCK": EventType.REJECTED,
    "ENROUTE": EventType.SENT,
    "SCHEDULED": EventType.QUEUED,
}


def event_for_state(statusstr: str) -> EventType:
    """The event a gateway state means (spacing and case ignored); ``unknown`` if unlisted."""
    return STATE_EVENTS.get(statusstr.strip().upper(), EventType.UNKNOWN)


#: Recipient statuses (``Recipient.Status``) as events.
RECIPIENT_STATUS_EVENTS: dict[str, EventType] = {
    "queued": EventType.QUEUED,
    "submitted": EventType.SENT,
    "delivered": EventType.DELIVERED,
    "failed": EventType.FAILED,
    "cancelled": EventType.REJECTED,
    "uncertain": EventType.UNKNOWN,
}


@dataclass(frozen=True)
class SmsEvent:
    """One normalised event for one recipient, with the attribute names of anymail's.

    django-anymail's ``AnymailTrackingEvent`` has the same ``event_type``,
    ``timestamp``, ``message_id``, ``recipient``, ``tags``, ``metadata``,
    ``esp_event`` (the provider's raw event: here the report's parameters as
    they arrived) and ``description``, so a receiver written for one reads
    the other. ``state`` is the gateway's own word (``DELIVRD``…).
    """

    event_type: EventType
    recipient: str
    message_id: str = ""
    state: str = ""
    timestamp: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    esp_event: dict[str, Any] = field(default_factory=dict)
    description: str = ""


#: What ``esp_name`` is in the signals' arguments, as anymail names its providers.
ESP_NAME = "smsgo"


def event_for_report(report: Any, message: Any) -> SmsEvent:
    """The event a stored ``DeliveryReport`` means, for ``message`` (its metadata and tags)."""
    from django_smsgo.client.statuses import describe

    state = (report.statusstr or "").strip().upper()
    return SmsEvent(
        event_type=event_for_state(state),
        recipient=report.phone,
        message_id=report.msgid,
        state=state,
        timestamp=report.received_at,
        metadata=dict(getattr(message, "metadata", None) or {}),
        tags=tuple(getattr(message, "tags", None) or ()),
        esp_event=dict(report.raw or {}),
        description=describe(state) if state else "",
    )

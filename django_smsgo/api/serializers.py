"""Request and response shapes of the API.

Responses are read-only views of the models; requests are checked here for
shape only (types, ranges, choices). Every rule of the domain (numbers,
encodings, text length, schedule, suppression, duplicates, balance) is
checked by the services the views call, so the API and ``send_sms()`` can never
disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from django_smsgo.api.fields import StrictBooleanField, StrictCharField, StrictIntegerField
from django_smsgo.conf import smsgo_settings
from django_smsgo.models import BalanceSnapshot, DeliveryReport, Message, Recipient

# The gateway's encodings, plus the spellings of the vendor document's notes
# that the client normalises (PASCII -> PASCI, LASCII -> LASCI).
ENCODING_CHOICES = [
    "BIG5",
    "ASCII",
    "UCS2",
    "PBIG5",
    "PASCI",
    "PASCII",
    "LBIG5",
    "LASCI",
    "LASCII",
    "LUCS2",
    "PUSH",
]


def _in_range(value: dt.datetime | None) -> dt.datetime | None:
    """Refuse moments that cannot be stored in UTC (near year 1 or 9999)."""
    if value is None:
        return None
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise serializers.ValidationError("This moment is out of range.") from None
    return value


def _within_recipient_limit(numbers: list[str]) -> list[str]:
    """Bound one request's work; larger lists go through ``send_sms()`` in code."""
    limit = smsgo_settings.API_MAX_RECIPIENTS
    if limit and len(numbers) > limit:
        raise serializers.ValidationError(
            f"{len(numbers)} numbers; at most {limit} per request through the API."
        )
    return numbers


class DeliveryReportSerializer(serializers.ModelSerializer[DeliveryReport]):
    """One status observation for a recipient, as it arrived."""

    class Meta:
        model = DeliveryReport
        fields = ["id", "statuscode", "statusstr", "source", "outcome", "received_at"]
        read_only_fields = fields


class RecipientSerializer(serializers.ModelSerializer[Recipient]):
    """One number of a message, its status and the reports received for it."""

    msgid = serializers.SerializerMethodField(help_text="The gateway msgid of its request.")
    status_reason = serializers.CharField(
        source="reason_text", read_only=True, help_text="The reason in the request's language."
    )
    reports = DeliveryReportSerializer(many=True, read_only=True)

    class Meta:
        model = Recipient
        fields = [
            "id",
            "phone",
            "intended_phone",
            "status",
            "status_reason",
            "reason_code",
            "reason_params",
            "gateway_statuscode",
            "gateway_status",
            "msgid",
            "submitted_at",
            "final_at",
            "reports",
        ]
        read_only_fields = fields

    def get_msgid(self, recipient: Recipient) -> str:
        return recipient.batch.msgid if recipient.batch else ""


class RecipientPageSerializer(serializers.Serializer[Any]):
    """A page of recipients; follow ``next`` for the rest."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RecipientSerializer(many=True)


class MessageSerializer(serializers.ModelSerializer[Message]):
    """A message as listed: its text, options, status and figures."""

    status_reason = serializers.CharField(
        source="reason_text", read_only=True, help_text="The reason in the request's language."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "body",
            "encoding",
            "status",
            "status_reason",
            "reason_code",
            "reason_params",
            "priority",
            "send_at",
            "expires_at",
            "reply",
            "reply_days",
            "wap_url",
            "kind",
            "metadata",
            "tags",
            "idempotency_key",
            "recipient_count",
            "segments",
            "estimated_points",
            "points_charged",
            "created_by",
            "created_at",
            "queued_at",
            "submitted_at",
            "completed_at",
        ]
        read_only_fields = fields


class MessageDetailSerializer(MessageSerializer):
    """A message with the first page of its recipients (each with its reports)."""

    recipients = serializers.SerializerMethodField()

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "recipients"]
        read_only_fields = fields

    @extend_schema_field(RecipientPageSerializer)
    def get_recipients(self, message: Message) -> dict[str, Any]:
        page: dict[str, Any] = self.context["recipients_page"]
        return page


class SendRequestSerializer(serializers.Serializer[Any]):
    """What ``POST messages/`` accepts: the arguments of ``send_sms()``."""

    to = serializers.ListField(
        child=StrictCharField(max_length=40),
        allow_empty=False,
        help_text="Receiver numbers: 09xxxxxxxx, common written forms, or +<country><number>.",
    )
    body = StrictCharField(trim_whitespace=False, help_text="The text.")
    encoding = serializers.ChoiceField(
        choices=ENCODING_CHOICES,
        required=False,
        allow_null=True,
        help_text="Chosen from the text when absent (ASCII, BIG5, else UCS2; long when needed).",
    )
    send_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Schedule the message for this moment."
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Not sent at all after this moment."
    )
    reply = StrictBooleanField(default=False, help_text="Collect the receivers' replies.")
    reply_days = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=30)
    wap_url = StrictCharField(
        required=False, allow_blank=True, max_length=300, help_text="Only with PUSH."
    )
    priority = serializers.ChoiceField(choices=Message.Priority.choices, required=False)
    idempotency_key = StrictCharField(
        required=False,
        allow_null=True,
        max_length=255,
        help_text="Sending again with the same key returns the first message and sends "
        "nothing. The Idempotency-Key header does the same.",
    )
    allow_duplicate = StrictBooleanField(
        default=False, help_text="Skip the guard against the same text to the same number."
    )
    kind = serializers.ChoiceField(
        choices=Message.Kind.choices,
        required=False,
        help_text="transactional (codes, notices: sent to opted-out numbers too) or "
        "marketing (the default).",
    )
    metadata = serializers.DictField(
        required=False,
        help_text="A JSON object stored with the message and passed to every signal "
        "about it (your own ids, say); at most 8 KB.",
    )
    tags = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        max_length=20,
        help_text="Short labels to filter by (?tag=).",
    )

    def validate_to(self, value: list[str]) -> list[str]:
        return _within_recipient_limit(value)

    def validate_send_at(self, value: dt.datetime | None) -> dt.datetime | None:
        return _in_range(value)

    def validate_expires_at(self, value: dt.datetime | None) -> dt.datetime | None:
        return _in_range(value)


class EstimateRequestSerializer(serializers.Serializer[Any]):
    """What ``POST messages/estimate/`` accepts."""

    to = serializers.ListField(
        child=StrictCharField(max_length=40), allow_empty=True, required=False, default=list
    )
    body = StrictCharField(trim_whitespace=False, allow_blank=True)
    encoding = serializers.ChoiceField(choices=ENCODING_CHOICES, required=False, allow_null=True)
    reply = StrictBooleanField(default=False)
    wap_url = StrictCharField(required=False, allow_blank=True, max_length=300)
    kind = serializers.ChoiceField(
        choices=Message.Kind.choices,
        required=False,
        help_text="Decides which carrier rules apply (marketing, the default, or transactional).",
    )
    send_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="The planned time (quiet hours are shown)."
    )

    def validate_to(self, value: list[str]) -> list[str]:
        return _within_recipient_limit(value)

    def validate_send_at(self, value: dt.datetime | None) -> dt.datetime | None:
        return _in_range(value)


class RuleProblemSerializer(serializers.Serializer[Any]):
    """A carrier rule the send would break (docs/taiwan.rst)."""

    rule = serializers.CharField(help_text="sender_tag, links, numbers, quiet_hours…")
    setting = serializers.CharField(help_text="The SMSGO setting behind the rule.")
    value = serializers.JSONField(help_text="The offending link, number, time or text.")
    detail = serializers.CharField(help_text="The refusal in the request's language.")


class RuleNoteSerializer(serializers.Serializer[Any]):
    """Something a carrier rule did to the send (a tag or footer added, a hold)."""

    code = serializers.CharField(
        help_text="sender_tag_added, opt_out_footer_added, held_for_quiet_hours…"
    )
    text = serializers.CharField(help_text="In the request's language.")


class InvalidNumberSerializer(serializers.Serializer[Any]):
    """A number that cannot be sent to, and why."""

    value = serializers.CharField()
    reason = serializers.CharField()


class EstimateSerializer(serializers.Serializer[Any]):
    """Segments and points for a text and a number list; nothing is stored."""

    encoding = serializers.CharField(allow_null=True)
    characters = serializers.IntegerField()
    segments = serializers.IntegerField()
    valid_numbers = serializers.IntegerField()
    invalid_numbers = InvalidNumberSerializer(many=True)
    points = serializers.IntegerField()
    text_error = serializers.CharField(allow_null=True)
    body = serializers.CharField(
        help_text="The text as it would be sent (sender tag and opt-out line added)."
    )
    rule_problems = RuleProblemSerializer(many=True)
    send_at = serializers.DateTimeField(
        allow_null=True, help_text="When it would go out (the quiet hours' end when held)."
    )
    held = serializers.BooleanField(help_text="The quiet hours set or moved send_at.")
    notes = RuleNoteSerializer(many=True, help_text="What the carrier rules did to the send.")


class BatchCancelSerializer(serializers.Serializer[Any]):
    """The gateway's answer to the cancel of one msgid (one request of up to 50 numbers)."""

    msgid = serializers.CharField()
    cancelled = serializers.BooleanField()
    statuscode = serializers.IntegerField(allow_null=True)
    statusstr = serializers.CharField()
    phones = serializers.ListField(child=serializers.CharField())


class RecipientCancelSerializer(serializers.Serializer[Any]):
    """What the cancel did to one number that the gateway had."""

    phone = serializers.CharField()
    result = serializers.CharField(help_text="'cancelled', or why not.")


class CancelResultSerializer(serializers.Serializer[Any]):
    """What ``POST messages/{id}/cancel/`` did."""

    message = MessageSerializer(help_text="The message after the cancel.")
    # Declared fields leave the class attributes to DRF's metaclass, so this
    # does not shadow Serializer.partial at run time.
    partial = serializers.BooleanField(  # type: ignore[assignment]
        help_text="The gateway cancelled some of the message's requests and refused others."
    )
    cancelled_locally = serializers.IntegerField(
        help_text="Recipients not yet handed to the gateway, cancelled here."
    )
    batches = BatchCancelSerializer(many=True)
    recipients = RecipientCancelSerializer(many=True)


class BalanceSerializer(serializers.Serializer[Any]):
    """The account balance as last reported by the gateway (all null when never asked)."""

    points = serializers.IntegerField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    low = serializers.BooleanField(
        allow_null=True, help_text="Below the LOW_BALANCE_THRESHOLD setting."
    )

    @staticmethod
    def of(snapshot: BalanceSnapshot | None) -> dict[str, Any]:
        """The answer for a snapshot (or for no snapshot yet)."""
        if snapshot is None:
            return {"points": None, "checked_at": None, "low": None}
        return {
            "points": snapshot.points,
            "checked_at": snapshot.checked_at,
            "low": snapshot.points < smsgo_settings.LOW_BALANCE_THRESHOLD,
        }

"""``POST messages/personalised/``: one text with placeholders, a value per recipient.

A thin view over :func:`~django_smsgo.services.personalising.send_personalised`:
recipients with the same final text share one message; a refusal of any text
stores none. Mixed into :class:`~django_smsgo.api.views.MessageViewSet`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from django_smsgo.api.errors import (
    SEND_REFUSALS,
    Conflict,
    refused_send,
)
from django_smsgo.api.fields import StrictCharField
from django_smsgo.api.schema import document
from django_smsgo.api.serializers import (
    MessageSerializer,
    SendRequestSerializer,
    _within_recipient_limit,
)
from django_smsgo.exceptions import (
    InvalidNumberError,
)
from django_smsgo.models import Message
from django_smsgo.services.personalising import (
    MissingPlaceholderValueError,
    PlaceholderError,
    earlier_messages,
    send_personalised,
)


def placeholder_error(error: PlaceholderError) -> ValidationError:
    """A 400 naming the placeholder: on ``recipients`` for a missing value, else on ``body``."""
    field = "recipients" if isinstance(error, MissingPlaceholderValueError) else "body"
    answer: dict[str, Any] = {
        field: [ErrorDetail(str(error), code=error.rule_code)],
        "rule": error.rule_code,
    }
    if error.rule_code != "placeholder_syntax":
        answer["placeholder"] = error.placeholder
    if isinstance(error, MissingPlaceholderValueError):
        answer["numbers"] = error.numbers
    return ValidationError(answer)


class PersonalisedRecipientSerializer(serializers.Serializer[Any]):
    """One recipient of a personalised send: the number and its values by placeholder."""

    to = StrictCharField(max_length=40, help_text="The receiver's number.")
    values = serializers.DictField(
        child=StrictCharField(max_length=1000, allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        help_text='The value of each placeholder for this recipient: {"name": "王先生"}.',
    )


class PersonalisedSendRequestSerializer(SendRequestSerializer):
    """What ``POST messages/personalised/`` accepts: ``send_sms()``'s options and the recipients."""

    to = None  # type: ignore[assignment]  # the recipients carry the numbers
    body = StrictCharField(
        trim_whitespace=False,
        help_text="The text, with placeholders in braces ({name}); {{ and }} write a brace.",
    )
    recipients = serializers.ListField(
        child=PersonalisedRecipientSerializer(),
        allow_empty=False,
        help_text="Each receiver with its values; recipients whose texts come out the same "
        "share one message.",
    )

    def validate_recipients(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        _within_recipient_limit([item["to"] for item in value])
        return value


class PersonalisedResultSerializer(serializers.Serializer[Any]):
    """The messages of a personalised send: one per distinct final text."""

    messages = MessageSerializer(many=True, read_only=True)


class PersonalisedSendMixin:
    """The ``personalised`` action of the messages viewset."""

    @document(
        request=PersonalisedSendRequestSerializer,
        examples=[
            OpenApiExample(
                "Two customers",
                value={
                    "body": "{name}您好，您的取貨碼是 {code}",
                    "kind": "transactional",
                    "recipients": [
                        {"to": "0912345678", "values": {"name": "王先生", "code": "A1"}},
                        {"to": "0912345679", "values": {"name": "林小姐", "code": "B2"}},
                    ],
                },
                request_only=True,
            )
        ],
        responses={
            201: PersonalisedResultSerializer,
            200: OpenApiResponse(
                PersonalisedResultSerializer, description="The idempotency key was used before."
            ),
            400: OpenApiResponse(
                description="Bad input: a placeholder without values, a recipient without a "
                "value, or a final text that breaks a rule; nothing was stored."
            ),
            402: OpenApiResponse(description="The balance cannot pay for all the texts."),
            409: OpenApiResponse(
                description="A text went to these numbers recently, the idempotency key "
                "belongs to someone else's messages, or a pre_send receiver cancelled the send."
            ),
            503: OpenApiResponse(description="The server's settings keep any SMS from going out."),
        },
        filters=False,
    )
    @action(detail=False, methods=["post"])
    def personalised(self, request: Request) -> Response:
        """Send a text with placeholders, filled in per recipient; one message per final text."""
        serializer = PersonalisedSendRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        key = self.idempotency_key(request, data.pop("idempotency_key", None))  # type: ignore[attr-defined]
        earlier = earlier_messages(key)
        if earlier:
            visible = self.get_queryset().filter(pk__in=[m.pk for m in earlier]).count()  # type: ignore[attr-defined]
            if visible != len(earlier):
                raise Conflict({"idempotency_key": ["This key was used for other messages."]})
            return self.answer(earlier, status.HTTP_200_OK)
        recipients = [(item["to"], item["values"]) for item in data.pop("recipients")]
        user = request.user if request.user.is_authenticated else None
        try:
            messages = send_personalised(
                data.pop("body"), recipients, idempotency_key=key, created_by=user, **data
            )
        except PlaceholderError as exc:
            raise placeholder_error(exc) from None
        except InvalidNumberError as exc:
            raise ValidationError(
                {"recipients": [f"{value!r}: {reason}" for value, reason in exc.invalid]}
            ) from None
        except SEND_REFUSALS as exc:
            return refused_send(exc)
        return self.answer(messages, status.HTTP_201_CREATED)

    def answer(self, messages: list[Message], status_code: int) -> Response:
        return Response(
            PersonalisedResultSerializer({"messages": messages}).data, status=status_code
        )

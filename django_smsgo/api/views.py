"""The API's views: thin, each hands the work to a service and shapes the answer."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from django_smsgo.api.errors import (
    SEND_REFUSALS,
    Conflict,
    GatewayUnavailable,
    Misconfigured,
    refused_send,
)
from django_smsgo.api.filters import MessageFilterBackend
from django_smsgo.api.pagination import MessageCursorPagination, RecipientCursorPagination
from django_smsgo.api.parsers import StrictJSONParser
from django_smsgo.api.permissions import BalancePermission, MessagePermission
from django_smsgo.api.personalised import PersonalisedSendMixin
from django_smsgo.api.querysets import message_queryset_hook
from django_smsgo.api.schema import document
from django_smsgo.api.serializers import (
    BalanceSerializer,
    CancelResultSerializer,
    EstimateRequestSerializer,
    EstimateSerializer,
    MessageDetailSerializer,
    MessageSerializer,
    RecipientSerializer,
    SendRequestSerializer,
)
from django_smsgo.api.throttling import SendRateThrottle
from django_smsgo.exceptions import (
    SmsgoConfigurationError,
    SmsgoError,
)
from django_smsgo.models import BalanceSnapshot, Message, Recipient
from django_smsgo.services import sending
from django_smsgo.services.balance import latest_balance, refresh_balance
from django_smsgo.services.cancelling import cancel_message
from django_smsgo.services.carrier_rules import shape_text
from django_smsgo.services.errors import (
    CancelError,
)
from django_smsgo.services.estimates import estimate

IDEMPOTENCY_HEADER = "Idempotency-Key"


def api_path(request: Request, name: str, pk: int) -> str:
    """The path of one of this API's routes, in whatever namespace it is mounted."""
    match = request.resolver_match
    namespace = match.namespace if match and match.namespace else "smsgo_api"
    return reverse(f"{namespace}:{name}", kwargs={"pk": pk})


def recipients_of(message: Message) -> QuerySet[Recipient]:
    """The recipients of a message with what their serializer reads, in few queries."""
    return (
        Recipient.objects.filter(message=message)
        .select_related("batch")
        .prefetch_related("reports")
    )


class MessageViewSet(
    PersonalisedSendMixin, mixins.ListModelMixin, viewsets.GenericViewSet[Message]
):
    """Send, list, follow, estimate and cancel messages.

    Which messages a user sees is decided by :meth:`get_message_queryset`
    (the ``API_MESSAGE_QUERYSET`` setting by default); a project may subclass
    the viewset and override it.
    """

    schema = AutoSchema()
    serializer_class = MessageSerializer
    pagination_class = MessageCursorPagination
    filter_backends = [MessageFilterBackend]
    permission_classes = [MessagePermission]
    # Any path segment reaches the view, so a malformed id gets the API's JSON
    # 404 rather than the project's HTML one.
    lookup_value_regex = r"[^/]+"
    parser_classes = [StrictJSONParser]

    def get_message_queryset(self) -> QuerySet[Message]:
        """The messages the current user may see (override to change the rule)."""
        return message_queryset_hook()(self.request)

    def get_object(self) -> Message:
        # Digits only, and few enough for a 64-bit key: anything else is a 404
        # before the database is asked.
        if not re.fullmatch(r"[0-9]{1,18}", str(self.kwargs.get(self.lookup_field, ""))):
            raise NotFound()
        return super().get_object()

    def get_queryset(self) -> QuerySet[Message]:
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        return self.get_message_queryset()

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = list(super().get_throttles())
        if self.action in ("create", "personalised"):
            throttles.append(SendRateThrottle())
        return throttles

    def recipients_page(self, message: Message, request: Request) -> dict[str, Any]:
        """The first (or the requested) page of a message's recipients.

        The ``next`` link always points at ``messages/{id}/recipients/``, the
        endpoint that serves the following pages.
        """
        paginator = RecipientCursorPagination()
        page = paginator.paginate_queryset(recipients_of(message), request, view=self)
        # The links are built from base_url: point them at the recipients endpoint
        # even when this page is embedded in the message itself.
        base = api_path(request, "message-recipients", message.pk)
        if "page_size" in request.query_params:
            base += "?" + urlencode({"page_size": request.query_params["page_size"]})
        paginator.base_url = request.build_absolute_uri(base)
        return {
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": RecipientSerializer(page, many=True).data,
        }

    def detail_response(self, message: Message, status_code: int) -> Response:
        serializer = MessageDetailSerializer(
            message,
            context={
                "request": self.request,
                "recipients_page": self.recipients_page(message, self.request),
            },
        )
        return Response(serializer.data, status=status_code)

    @document(
        request=SendRequestSerializer,
        examples=[
            OpenApiExample(
                "Two numbers",
                value={"to": ["0912-345-678", "+886 987 654 321"], "body": "Your order shipped."},
                request_only=True,
            )
        ],
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                location=OpenApiParameter.HEADER,
                description="Same as the idempotency_key field: a repeated key returns the "
                "first message (200) and sends nothing.",
            )
        ],
        responses={
            201: MessageDetailSerializer,
            200: OpenApiResponse(
                MessageDetailSerializer, description="The idempotency key was used before."
            ),
            400: OpenApiResponse(description="Bad input; each field with its errors."),
            402: OpenApiResponse(description="The balance cannot pay for this send."),
            409: OpenApiResponse(
                description="The same text went to these numbers recently, the "
                "idempotency key belongs to another message, or a pre_send receiver of "
                "the project cancelled the send."
            ),
            429: OpenApiResponse(description="Too many sends; retry after Retry-After seconds."),
            503: OpenApiResponse(
                description="The server's settings keep any SMS from going out (no "
                "credentials, no way to dispatch); nothing was stored. The detail names the "
                "setting."
            ),
        },
        filters=False,
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send or schedule a text to one or more numbers, with the checks of ``send_sms()``."""
        serializer = SendRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        key = self.idempotency_key(request, data.pop("idempotency_key", None))
        if key is not None:
            earlier = self.earlier_message(key, data["body"])
            if earlier is not None:
                return self.detail_response(earlier, status.HTTP_200_OK)
        user = request.user if request.user.is_authenticated else None
        try:
            stored = sending.send(
                data.pop("to"),
                data.pop("body"),
                idempotency_key=key,
                created_by=user,
                **data,
            )
        except SEND_REFUSALS as exc:
            return refused_send(exc)
        message = stored.message
        if not stored.created:
            # A concurrent request with this key stored it first: answer as for a repeat.
            self.check_earlier(message, serializer.validated_data["body"])
            return self.detail_response(message, status.HTTP_200_OK)
        response = self.detail_response(message, status.HTTP_201_CREATED)
        response["Location"] = api_path(request, "message-detail", message.pk)
        return response

    def idempotency_key(self, request: Request, from_body: str | None) -> str | None:
        """The key from the body or the ``Idempotency-Key`` header; both must agree.

        A blank key is no key, as in ``send_sms()``.
        """
        from_header = request.headers.get(IDEMPOTENCY_HEADER) or None
        from_header, from_body = (
            key if key is not None and key.strip() else None for key in (from_header, from_body)
        )
        if from_header is not None and len(from_header) > 255:
            raise ValidationError(
                {"idempotency_key": [f"The {IDEMPOTENCY_HEADER} header is over 255 characters."]}
            )
        if from_body and from_header and from_body != from_header:
            raise ValidationError(
                {
                    "idempotency_key": [
                        f"The body's idempotency_key {from_body!r} differs from the "
                        f"{IDEMPOTENCY_HEADER} header {from_header!r}."
                    ]
                }
            )
        return from_body or from_header

    def earlier_message(self, key: str, body: str) -> Message | None:
        """The message already sent with this key, if the user may see it; else a 409."""
        earlier = Message.objects.by_idempotency_key(key)
        if earlier is not None:
            self.check_earlier(earlier, body)
        return earlier

    def check_earlier(self, earlier: Message, body: str) -> None:
        """409 unless ``earlier`` (stored under the request's key) is this user's and this text."""
        if not self.get_queryset().filter(pk=earlier.pk).exists():
            raise Conflict({"idempotency_key": ["This key was used for another message."]})
        # The stored text carries the sender tag and opt-out line the rules added.
        if earlier.body not in (body, shape_text(body, earlier.kind)):
            raise Conflict(
                {"idempotency_key": ["This key was used for a message with a different text."]}
            )

    @document(
        parameters=[
            OpenApiParameter(
                "cursor", str, description="Cursor of the recipients page (from its links)."
            ),
            OpenApiParameter("page_size", int, description="Recipients per page (at most 500)."),
        ],
        responses={200: MessageDetailSerializer, 404: OpenApiResponse(description="Not found.")},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A message with the first page of its recipients, each with its delivery reports."""
        return self.detail_response(self.get_object(), status.HTTP_200_OK)

    @document(
        parameters=[
            OpenApiParameter("cursor", str, description="The pagination cursor value."),
            OpenApiParameter("page_size", int, description="Recipients per page (at most 500)."),
        ],
        responses={200: RecipientSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=RecipientCursorPagination)
    def recipients(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The recipients of a message, page by page, each with its delivery reports."""
        message = self.get_object()
        paginator = RecipientCursorPagination()
        page = paginator.paginate_queryset(recipients_of(message), request, view=self)
        return paginator.get_paginated_response(RecipientSerializer(page, many=True).data)

    @document(
        request=EstimateRequestSerializer,
        examples=[
            OpenApiExample(
                "A Chinese text",
                value={"to": ["0912345678", "0912"], "body": "您好，您的訂單已出貨。"},
                request_only=True,
            )
        ],
        responses={200: EstimateSerializer},
        filters=False,
    )
    @action(detail=False, methods=["post"])
    def estimate(self, request: Request) -> Response:
        """Characters, segments and points for a text and a number list; nothing is stored."""
        serializer = EstimateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = estimate(
            data["to"],
            data["body"],
            encoding=data.get("encoding"),
            reply=data["reply"],
            wap_url=data.get("wap_url") or None,
            kind=data.get("kind"),
            send_at=data.get("send_at"),
        )
        answer = {
            **asdict(result),
            "invalid_numbers": [
                {"value": value, "reason": reason} for value, reason in result.invalid_numbers
            ],
        }
        return Response(EstimateSerializer(answer).data)

    @document(
        request=None,
        responses={
            200: CancelResultSerializer,
            404: OpenApiResponse(description="Not found."),
            409: OpenApiResponse(description="The message cannot be cancelled (any more)."),
        },
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel a message not yet sent or scheduled and not yet due; per-recipient result.

        Recipients not handed to the gateway yet are cancelled here; each
        scheduled gateway request is cancelled at the gateway, which may refuse
        some (``partial``). A message whose time has come answers 409.
        """
        message = self.get_object()
        try:
            outcome = cancel_message(message)
        except CancelError as exc:
            raise Conflict({"detail": str(exc)}) from None
        message.refresh_from_db()
        result = {
            "message": message,
            "partial": outcome.partial,
            "cancelled_locally": outcome.cancelled_locally,
            "batches": outcome.batches,
            "recipients": [
                {"phone": phone, "result": text} for phone, text in outcome.recipients.items()
            ],
        }
        return Response(CancelResultSerializer(result, context={"request": request}).data)


class BalanceView(APIView):
    """The account balance."""

    schema = AutoSchema()
    permission_classes = [BalancePermission]

    @document(
        parameters=[
            OpenApiParameter(
                "refresh",
                bool,
                description="Ask the gateway now instead of answering the last known balance.",
            )
        ],
        responses={
            200: BalanceSerializer,
            400: OpenApiResponse(description="refresh is not a boolean."),
            502: OpenApiResponse(description="The gateway could not be asked."),
            503: OpenApiResponse(description="The server's settings keep it from asking."),
        },
    )
    def get(self, request: Request) -> Response:
        """The last known balance; ``?refresh=1`` asks the gateway first."""
        if wants_refresh(request):
            try:
                snapshot: BalanceSnapshot | None = refresh_balance()
            except SmsgoError as exc:
                # The client's errors say what failed in words and never carry
                # the password, so their text can be shown.
                raise GatewayUnavailable(
                    {"detail": f"The gateway could not be asked: {exc}"}
                ) from None
            except SmsgoConfigurationError as exc:
                raise Misconfigured({"detail": str(exc)}) from None
        else:
            snapshot = latest_balance()
        return Response(BalanceSerializer(BalanceSerializer.of(snapshot)).data)


def wants_refresh(request: Request) -> bool:
    """``?refresh=`` read as a boolean; anything unrecognised is a 400 naming it."""
    value = request.query_params.get("refresh", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValidationError({"refresh": [f"{value!r} is not a boolean; use 1 or 0."]})

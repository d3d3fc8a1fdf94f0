"""The OpenAPI 3 schema of the API (drf-spectacular), limited to this package's views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView

import django_smsgo

API_MODULE_PREFIX = "django_smsgo.api."

SCHEMA_SETTINGS = {
    "TITLE": "django-smsgo API",
    "DESCRIPTION": "Send SMS through the smsgo gateway and follow each one to its delivery.",
    "VERSION": django_smsgo.__version__,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "django_smsgo.api.schema.add_errors_and_links",
    ],
    # Messages and recipients both have a "status" with different choices.
    "ENUM_NAME_OVERRIDES": {
        "MessageStatusEnum": "django_smsgo.models.Message.Status",
        "RecipientStatusEnum": "django_smsgo.models.Recipient.Status",
    },
}


F = TypeVar("F", bound=Callable[..., Any])


def document(**kwargs: Any) -> Callable[[F], F]:
    """``extend_schema`` for a view method, whatever the project's ``DEFAULT_SCHEMA_CLASS``.

    drf-spectacular builds a method's schema on ``DEFAULT_SCHEMA_CLASS``, which
    is DRF's own unless the project points it at drf-spectacular; our views
    carry drf-spectacular's ``AutoSchema`` themselves, and this hands the same
    base to the method's annotation, so the app needs no project setting.
    """

    def decorate(method: F) -> F:
        setattr(method, "schema", AutoSchema)  # noqa: B010 (F is any callable)
        return extend_schema(**kwargs)(method)

    return decorate


DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}

# Answers every operation may give, besides the ones each documents itself.
COMMON_ERRORS = {
    "400": "Bad input: each field (or query parameter) with its errors.",
    "401": "Not authenticated (with an authentication class that asks for credentials).",
    "403": "Not authenticated, or without the permission this operation needs.",
}
NOT_FOUND = "No such message, or one you may not see; or an invalid pagination cursor."

# After a send, the message can be followed, paged and cancelled by its id.
LINKS_FROM_SEND = {
    "GetMessage": "messages_retrieve",
    "ListRecipients": "messages_recipients_list",
    "CancelMessage": "messages_cancel_create",
}


def add_errors_and_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing: the error answers of every operation, and links.

    The links let schema-driven clients (and fuzzers) follow a sent message to
    its detail, recipients and cancel operations.
    """
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for code, description in COMMON_ERRORS.items():
                responses.setdefault(code, {"description": description})
            if "{id}" in path or operation.get("operationId", "").endswith("_list"):
                responses.setdefault("404", {"description": NOT_FOUND})
            for code in ("401", "403", "404"):
                answer = responses.get(code)
                if answer is not None and "content" not in answer:
                    answer["content"] = {"application/json": {"schema": DETAIL}}
            if operation.get("operationId") == "messages_create":
                for code in ("200", "201"):
                    if code in responses:
                        responses[code]["links"] = {
                            name: {
                                "operationId": target,
                                "parameters": {"id": "$response.body#/id"},
                            }
                            for name, target in LINKS_FROM_SEND.items()
                        }
    return result


class SmsgoSchemaGenerator(SchemaGenerator):
    """Describes only the endpoints of ``django_smsgo.api``, wherever they are mounted.

    Walking the project's whole URL configuration keeps the real path prefix
    (``/smsgo/api/...``); the project's other views are left out.
    """

    def _initialise_endpoints(self) -> None:
        super()._initialise_endpoints()
        self.endpoints: list[Any] = [
            endpoint for endpoint in self.endpoints if _is_ours(endpoint[3])
        ]


def _is_ours(callback: Any) -> bool:
    view_class = getattr(callback, "cls", None)
    module = getattr(view_class, "__module__", "")
    return module.startswith(API_MODULE_PREFIX) and view_class is not SchemaView


class SchemaView(SpectacularAPIView):
    """``GET schema/``: the OpenAPI 3 document (YAML, or JSON with ``?format=json``)."""

    generator_class = SmsgoSchemaGenerator
    custom_settings = SCHEMA_SETTINGS

"""Service refusals turned into API answers: which field was wrong, and why, in words.

A validation error of the client or the services becomes a 400 with the
offending field named (every bad number listed under ``to``); the guards that
depend on the state of the account, not on the input, get their own codes:
409 for the duplicate guard and for a message that cannot be cancelled, 402
when the balance cannot pay for the send, 503 when the server's settings keep
any SMS from going out (no credentials, no way to dispatch).
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.response import Response

from django_smsgo.exceptions import (
    EmptyBodyError,
    InvalidEncodingError,
    InvalidNumberError,
    MessageTooLongError,
    OptionNotAllowedError,
    ScheduleError,
    SmsgoCancelSend,
    SmsgoConfigurationError,
    SmsgoValidationError,
    TooManyNumbersError,
    UnencodableTextError,
)
from django_smsgo.services.carrier_rules.errors import CarrierRuleError, PointsBudgetError
from django_smsgo.services.errors import DuplicateMessageError, InsufficientBalanceError

#: What a send may refuse with; :func:`refused_send` answers each.
SEND_REFUSALS = (
    SmsgoValidationError,
    DuplicateMessageError,
    SmsgoCancelSend,
    InsufficientBalanceError,
    SmsgoConfigurationError,
)

# The rule of an error names the option it is about (in our words or the
# gateway's parameter name); the first word found decides the request field.
FIELD_BY_RULE_WORD = (
    ("international", "to"),
    ("receiver number", "to"),
    ("expires_at", "expires_at"),
    ("send_at", "send_at"),
    ("dlvtime", "send_at"),
    ("wapurl", "wap_url"),
    ("wap_url", "wap_url"),
    ("replydays", "reply_days"),
    ("reply_days", "reply_days"),
    ("replyurl", "reply"),
    ("repl", "reply"),
    ("priority", "priority"),
    ("encoding", "encoding"),
)

# Otherwise the error's class says it (checked along the class hierarchy).
FIELD_BY_ERROR: dict[type[SmsgoValidationError], str] = {
    InvalidNumberError: "to",
    TooManyNumbersError: "to",
    EmptyBodyError: "body",
    MessageTooLongError: "body",
    UnencodableTextError: "body",
    InvalidEncodingError: "encoding",
    ScheduleError: "send_at",
    OptionNotAllowedError: "non_field_errors",
    # The carrier rules judge the text (a link, a number, the sender tag); the
    # quiet hours name send_at in their rule; the budget is about the account.
    PointsBudgetError: "non_field_errors",
    CarrierRuleError: "body",
}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the state of the message."
    default_code = "conflict"


class Misconfigured(APIException):
    """The project's settings keep any SMS from going out; nothing was stored.

    A 503, not a 500: the request was fine, the server is not ready. The
    detail names the setting to fix (it never holds a secret).
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "SMS cannot be sent with the server's current settings."
    default_code = "misconfigured"


class GatewayUnavailable(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The gateway could not be asked."
    default_code = "gateway_unavailable"


def field_of(error: SmsgoValidationError) -> str:
    """The request field a validation error is about (``non_field_errors`` when unknown)."""
    if isinstance(error, InvalidNumberError | TooManyNumbersError):
        return "to"
    # Only the rule is searched: it is our text, while the value may be anything.
    rule = str(error.rule).lower()
    for word, field in FIELD_BY_RULE_WORD:
        if word in rule:
            return field
    for cls in type(error).__mro__:
        if cls in FIELD_BY_ERROR:
            return FIELD_BY_ERROR[cls]
    return "non_field_errors"


def validation_error(error: SmsgoValidationError) -> ValidationError:
    """A DRF 400 naming the field, and for numbers every bad number with its reason."""
    if isinstance(error, InvalidNumberError):
        return ValidationError({"to": [f"{value!r}: {reason}" for value, reason in error.invalid]})
    if isinstance(error, CarrierRuleError):
        # A carrier rule is named by code and setting, so a client can act on it.
        return ValidationError(
            {
                field_of(error): [ErrorDetail(str(error), code=error.rule_code)],
                "rule": error.rule_code,
                "setting": error.setting,
            }
        )
    return ValidationError({field_of(error): [str(error)]})


def refused_send(error: Exception) -> Response:
    """The answer to a send the core refused (one of :data:`SEND_REFUSALS`); nothing was stored.

    400 for bad input, 409 for a duplicate or a send a hook cancelled, 402 for
    the balance, 503 for settings that keep any SMS from going out.
    """
    if isinstance(error, SmsgoValidationError):
        raise validation_error(error) from None
    if isinstance(error, DuplicateMessageError):
        return Response(
            {"detail": str(error), "numbers": error.numbers}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(error, SmsgoCancelSend):
        return Response(
            {"detail": error.reason, "cancelled": True}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(error, InsufficientBalanceError):
        return Response(
            {"detail": str(error), "needed": error.needed, "balance": error.balance},
            status=status.HTTP_402_PAYMENT_REQUIRED,
        )
    if isinstance(error, SmsgoConfigurationError):
        raise Misconfigured({"detail": f"Not sent, nothing stored: {error}"}) from None
    raise error

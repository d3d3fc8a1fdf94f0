"""The callback endpoints: Phase-Two delivery reports and receivers' replies.

Thin by design: authenticate (the token in the path, then the optional
allow-list of source networks), parse and validate the parameters, hand them
to a service, answer. The gateway retries a report until it gets the exact
acknowledgement, so the acknowledgement is sent only after the report is
committed; any failure answers something else and the gateway tries again.

The URLs hold secrets: every log line here shows them with the token replaced
by ``***``, and no response of ours reaches Django's request logger (which
would log the raw path).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import DeliveryReport
from django_smsgo.services.callback_urls import CallbackKind, redact, verify_token
from django_smsgo.services.replies import record_reply
from django_smsgo.services.reports import record_observation

logger = logging.getLogger(__name__)

#: The acknowledgement the gateway expects for a delivery report (``\n`` is chr(10)).
REPORT_ACK = "magicid=tccrd_sms_gateway_rpack\nmsgid={msgid}\n"

# Limits on what a callback may carry. A report is a few short parameters; a
# reply carries the receiver's text (a long SMS is at most a few hundred
# characters, each up to 9 bytes once percent-encoded).
_MAX_FIELDS = 20
_REPORT_MAX_BYTES = 2048
_REPLY_MAX_BYTES = 16384
_REPLY_BODY_MAX_CHARS = 1000

_MSGID = re.compile(r"[0-9A-Za-z_\-]{1,32}")
_STATUSCODE = re.compile(r"-?\d{1,6}")
_STATUSSTR = re.compile(r"[^\x00-\x1f\x7f]{1,32}")
_PHONE = re.compile(r"\+?\d{3,19}")
_ENCODING = re.compile(r"[A-Za-z0-9]{0,8}")
_TIMESTAMP = re.compile(r"[^\x00-\x1f\x7f]{0,40}")


class BadCallback(Exception):
    """A callback whose parameters break a rule; ``reason`` is safe to answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- responses --------------------------------------------------------------------------------


def _plain(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain")
    # Django's request logger would log this response with the raw path, which
    # holds the token; we log our own redacted line instead.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _acknowledge(msgid: str) -> HttpResponse:
    return HttpResponse(REPORT_ACK.format(msgid=msgid), content_type="text/plain")


# --- authentication ---------------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str | None:
    header = smsgo_settings.CALLBACK_TRUSTED_PROXY_HEADER
    if not header:
        return request.META.get("REMOTE_ADDR")
    key = header if header.startswith("HTTP_") else "HTTP_" + header.upper().replace("-", "_")
    value = request.META.get(key, "")
    # The last address is the one our own proxy saw; earlier ones are
    # whatever the client claimed.
    last = value.split(",")[-1].strip()
    return last or None


def _source_allowed(request: HttpRequest) -> bool:
    networks = smsgo_settings.CALLBACK_ALLOWED_IPS
    if networks is None:
        return True
    address = _client_ip(request)
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    try:
        allowed = [ipaddress.ip_network(net, strict=False) for net in networks]
    except ValueError as exc:
        raise ImproperlyConfigured(f"SMSGO['CALLBACK_ALLOWED_IPS'] is invalid: {exc}") from None
    return any(ip in net for net in allowed)


def _authenticate(
    request: HttpRequest, kind: CallbackKind, batch_id: int, token: str
) -> HttpResponse | None:
    """None when the request may proceed, else the response that refuses it."""
    if not _source_allowed(request):
        logger.warning("Callback %s refused: source address not allowed.", redact(request.path))
        return _plain(403, "forbidden")
    if not verify_token(kind, batch_id, token):
        logger.warning("Callback %s refused: wrong token.", redact(request.path))
        return _plain(404, "not found")
    if request.method not in ("GET", "POST"):
        response = _plain(405, "method not allowed")
        response["Allow"] = "GET, POST"
        return response
    return None


# --- parameters -------------------------------------------------------------------------------


def _decode_pairs(raw: bytes, max_bytes: int) -> list[tuple[str, str]]:
    if len(raw) > max_bytes:
        raise BadCallback(f"parameters too long (more than {max_bytes} bytes)")
    try:
        return parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise BadCallback("parameters are not valid UTF-8") from None
    except ValueError:
        raise BadCallback(f"too many parameters (more than {_MAX_FIELDS})") from None


def _multipart_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    try:
        files, form = request.FILES, request.POST
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent):
        raise BadCallback("malformed multipart body") from None
    if files:
        raise BadCallback("files are not accepted")
    pairs = [(key, value) for key, values in form.lists() for value in values]
    if len(pairs) > _MAX_FIELDS:
        raise BadCallback(f"too many parameters (more than {_MAX_FIELDS})")
    # Django decodes multipart fields leniently; a replacement character is
    # what is left of bytes that were not UTF-8.
    if any("\ufffd" in key or "\ufffd" in value for key, value in pairs):
        raise BadCallback("parameters are not valid UTF-8")
    return pairs


def _read_params(request: HttpRequest, max_bytes: int) -> dict[str, str]:
    """The query string and any form body as one dict, strictly decoded.

    Django's own ``request.GET`` silently replaces invalid UTF-8; a callback
    with broken bytes is refused instead, so nothing garbled is stored.
    """
    query = request.META.get("QUERY_STRING", "")
    pairs = _decode_pairs(query.encode("latin-1", errors="replace"), max_bytes)
    if request.method == "POST":
        content_type = request.content_type or ""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise BadCallback("invalid Content-Length") from None
        if length > max_bytes:
            raise BadCallback(f"body too long (more than {max_bytes} bytes)")
        if not length:
            pass
        elif content_type == "application/x-www-form-urlencoded":
            pairs += _decode_pairs(request.body, max_bytes)
        elif content_type == "multipart/form-data":
            pairs += _multipart_pairs(request)
        else:
            raise BadCallback("body must be form data")
    params: dict[str, str] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            # No database text column can hold it: refuse rather than fail to store.
            raise BadCallback("parameters must not contain NUL characters")
        value = value.strip()
        if key in params and params[key] != value:
            # repr() and a cut: the name comes from the internet and goes to a log line.
            raise BadCallback(f"parameter {key[:32]!r} given twice with different values")
        params[key] = value
    return params


def _required(params: dict[str, str], name: str, pattern: re.Pattern[str], rule: str) -> str:
    value = params.get(name, "")
    if not value:
        raise BadCallback(f"missing {name}")
    if not pattern.fullmatch(value):
        raise BadCallback(f"{name} must be {rule}")
    return value


def _optional(params: dict[str, str], name: str, pattern: re.Pattern[str], rule: str) -> str:
    value = params.get(name, "")
    if value and not pattern.fullmatch(value):
        raise BadCallback(f"{name} must be {rule}")
    return value


def _parse_msgid(params: dict[str, str]) -> str:
    return _required(params, "msgid", _MSGID, "1 to 32 letters, digits, '-' or '_'")


# --- views ------------------------------------------------------------------------------------


def _handle(
    request: HttpRequest,
    kind: CallbackKind,
    batch_id: int,
    token: str,
    max_bytes: int,
    store: Callable[[dict[str, str]], str],
) -> HttpResponse:
    """Authenticate, parse, store through ``store`` (which returns the msgid), answer."""
    try:
        refused = _authenticate(request, kind, batch_id, token)
        if refused is not None:
            return refused
        params = _read_params(request, max_bytes)
        msgid = store(params)
    except BadCallback as exc:
        logger.warning("Callback %s refused: %s.", redact(request.path), exc.reason)
        return _plain(400, exc.reason)
    except DatabaseError:
        # Not acknowledged, so the gateway sends it again.
        logger.exception("Callback %s not stored: database error.", redact(request.path))
        return _plain(503, "temporarily unavailable")
    except Exception:
        logger.exception("Callback %s failed.", redact(request.path))
        return _plain(500, "server error")
    return _acknowledge(msgid)


def _store_report(batch_id: int) -> Callable[[dict[str, str]], str]:
    def store(params: dict[str, str]) -> str:
        msgid = _parse_msgid(params)
        statuscode = _optional(params, "statuscode", _STATUSCODE, "an integer")
        statusstr = _required(params, "statusstr", _STATUSSTR, "1 to 32 printable characters")
        phone = _optional(params, "dstaddr", _PHONE, "a phone number (digits, optional +)")
        record_observation(
            msgid=msgid,
            phone=phone or None,
            statuscode=int(statuscode) if statuscode else None,
            statusstr=statusstr,
            source=DeliveryReport.Source.CALLBACK,
            raw=params,
            batch_id=batch_id,
        )
        return msgid

    return store


def _store_reply(batch_id: int) -> Callable[[dict[str, str]], str]:
    def store(params: dict[str, str]) -> str:
        msgid = _parse_msgid(params)
        srcaddr = _required(params, "srcaddr", _PHONE, "a phone number (digits, optional +)")
        dstaddr = _optional(params, "dstaddr", _PHONE, "a phone number (digits, optional +)")
        smbody = params.get("smbody", "")
        if len(smbody) > _REPLY_BODY_MAX_CHARS:
            raise BadCallback(f"smbody longer than {_REPLY_BODY_MAX_CHARS} characters")
        encoding = _optional(params, "encoding", _ENCODING, "up to 8 letters or digits")
        timestamp = _optional(params, "timestamp", _TIMESTAMP, "up to 40 printable characters")
        record_reply(
            msgid=msgid,
            srcaddr=srcaddr,
            dstaddr=dstaddr,
            smbody=smbody,
            encoding=encoding.upper(),
            timestamp=timestamp or None,
            raw=params,
            batch_id=batch_id,
        )
        return msgid

    return store


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    """404 for a path under ``report/`` or ``reply/`` that is no callback URL (token hidden)."""
    logger.warning("Callback %s refused: no such callback URL.", redact(request.path))
    return _plain(404, "not found")


@csrf_exempt
@transaction.non_atomic_requests
def delivery_report(request: HttpRequest, batch_id: int, token: str) -> HttpResponse:
    """Phase Two: the gateway reports what became of the SMS of batch ``batch_id``.

    Answers exactly ``magicid=tccrd_sms_gateway_rpack\\nmsgid=<msgid>\\n`` once
    the report is committed; 400 for malformed parameters, 404 for a wrong
    token, 503 when the database failed (the gateway then retries).
    """
    return _handle(request, "report", batch_id, token, _REPORT_MAX_BYTES, _store_report(batch_id))


@csrf_exempt
@transaction.non_atomic_requests
def reply(request: HttpRequest, batch_id: int, token: str) -> HttpResponse:
    """A receiver answered an SMS of batch ``batch_id``: store the reply.

    The document does not say what the gateway expects back; we answer like a
    delivery report (``magicid=…\\nmsgid=<msgid>\\n``), after commit.
    """
    return _handle(request, "reply", batch_id, token, _REPLY_MAX_BYTES, _store_reply(batch_id))

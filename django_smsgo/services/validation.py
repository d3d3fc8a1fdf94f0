"""The checks ``send_sms()`` runs before anything is stored, by the client's own rules.

The gateway client owns the protocol's rules (numbers, encodings, options,
``dlvtime``); this module applies them to a whole message, which may hold far
more numbers than one request, and adds the app's own rules (``expires_at``,
priority, replies needing a callback origin).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django_smsgo.client.encodings import Encoding
from django_smsgo.client.numbers import MAX_NUMBERS_PER_REQUEST, chunked, normalize_numbers
from django_smsgo.client.text import count_segments, fit_encoding
from django_smsgo.client.text import estimate_points as request_points
from django_smsgo.client.validation import TAIPEI, validate_send
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import (
    InvalidNumberError,
    OptionNotAllowedError,
    ScheduleError,
    SmsgoValidationError,
)
from django_smsgo.models import Message

IDEMPOTENCY_KEY_MAX_LENGTH = Message._meta.get_field("idempotency_key").max_length or 255

#: Longest possible reply URL, standing in for the real one (made per batch at send time).
_REPLY_URL_PLACEHOLDER = "https://reply.invalid/smsgo/reply/1/" + "0" * 32 + "/"


@dataclass(frozen=True)
class CheckedSend:
    """What validation settled: the encoding to send with, segments, options."""

    encoding: str
    segments: int
    reply_days: int | None
    priority: str
    kind: str


def as_number_list(to: object) -> list[Any]:
    """``to`` as a list: one number (text or a ``PhoneNumber``), or an iterable of numbers."""
    if to is None:
        raise InvalidNumberError([(None, "at least one receiver number is needed")])
    if isinstance(to, str | bytes) or not isinstance(to, Iterable) or _is_phone_number(to):
        return [to]
    return list(to)


def _is_phone_number(value: object) -> bool:
    # phonenumbers.PhoneNumber and django-phonenumber-field's subclass.
    return hasattr(value, "country_code") and hasattr(value, "national_number")


def normalise_recipients(to: str | Iterable[str]) -> list[str]:
    """Every number normalised and de-duplicated; ALL bad numbers named in one error.

    ``to`` is one number or an iterable of numbers; a string may list several
    separated by commas, semicolons or new lines.
    """
    numbers = as_number_list(to)
    if len(numbers) == 1 and isinstance(numbers[0], str):
        return list(normalize_numbers(numbers[0]))
    return list(normalize_numbers(numbers))


def idempotency_key(key: object) -> str | None:
    """``key`` checked: None, empty or only spaces is no key; else text of up to 255 characters."""
    if key is None:
        return None
    if not isinstance(key, str):
        raise OptionNotAllowedError(key, "an idempotency key must be text")
    if not key.strip():
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise OptionNotAllowedError(
            f"{key[:20]}…",
            f"an idempotency key has at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters "
            f"({len(key)} given)",
        )
    if not key.isprintable():
        raise OptionNotAllowedError(
            key, "an idempotency key must not contain control characters (NUL, line breaks…)"
        )
    return key


#: Limits of what a project may tie to a message.
MAX_METADATA_BYTES = 8192
MAX_TAGS = 20
MAX_TAG_LENGTH = 64


def check_metadata(metadata: object) -> dict[str, Any]:
    """``metadata`` as a JSON object (``None``: empty); refused unless it is one, and small.

    Keys are strings; values anything JSON holds; no NUL anywhere (PostgreSQL
    cannot store it); at most ``MAX_METADATA_BYTES`` as JSON.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
        raise SmsgoValidationError(metadata, "metadata must be a JSON object (a dict, text keys)")
    try:
        encoded = json.dumps(metadata, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise SmsgoValidationError(
            metadata, f"metadata must hold only JSON values ({error})"
        ) from None
    if "\\u0000" in encoded or "\x00" in encoded:
        raise SmsgoValidationError(metadata, "metadata must not hold NUL characters")
    if len(encoded.encode("utf-8")) > MAX_METADATA_BYTES:
        raise SmsgoValidationError(
            "metadata", f"metadata must be at most {MAX_METADATA_BYTES} bytes as JSON"
        )
    return dict(json.loads(encoded))


def check_tags(tags: object) -> list[str]:
    """``tags`` as a list of distinct short labels (``None``: none), order kept."""
    if tags is None:
        return []
    if isinstance(tags, str | bytes) or not isinstance(tags, Iterable):
        raise SmsgoValidationError(tags, "tags must be a list of strings")
    found: dict[str, None] = {}
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise SmsgoValidationError(tag, "a tag must be a non-empty string")
        if len(tag) > MAX_TAG_LENGTH or any(ord(c) < 32 for c in tag):
            raise SmsgoValidationError(
                tag, f"a tag is at most {MAX_TAG_LENGTH} characters, no control characters"
            )
        found[tag.strip()] = None
    if len(found) > MAX_TAGS:
        raise SmsgoValidationError(tags, f"a message takes at most {MAX_TAGS} tags")
    return list(found)


def check_flags(**flags: object) -> None:
    """Each of ``flags`` must be True or False (``reply="no"`` would read as True)."""
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise OptionNotAllowedError(value, f"{name} must be True or False")


def check_send(
    numbers: list[str],
    body: str,
    *,
    encoding: str | None,
    send_at: datetime | None,
    expires_at: datetime | None,
    reply: bool,
    reply_days: int | None,
    wap_url: str | None,
    priority: str | None,
    now: datetime,
    kind: str | None = None,
) -> CheckedSend:
    """Validate a message's text, options and schedule for every one of its requests.

    Raises a ``SmsgoValidationError`` naming the offending value and the rule.
    """
    if not isinstance(body, str):
        raise SmsgoValidationError(body, "the text must be a string")
    chosen = choose_encoding(body, encoding, wap_url)
    if reply:
        if smsgo_settings.CALLBACK_BASE_URL is None:
            raise OptionNotAllowedError(
                "reply=True",
                "collecting replies needs SMSGO['CALLBACK_BASE_URL'], the public origin the "
                "gateway calls with each reply",
            )
        reply_days = reply_days if reply_days is not None else smsgo_settings.REPLY_DAYS
    elif reply_days is not None:
        raise OptionNotAllowedError(reply_days, "reply_days is only allowed with reply=True")
    if priority is None:
        priority = Message.Priority.NORMAL
    if priority not in Message.Priority.values:
        raise OptionNotAllowedError(
            priority, f"priority must be one of {', '.join(Message.Priority.values)}"
        )
    if kind is None:
        kind = Message.Kind.MARKETING
    if kind not in Message.Kind.values:
        raise OptionNotAllowedError(kind, f"kind must be one of {', '.join(Message.Kind.values)}")
    _check_schedule(send_at, expires_at, now)
    dlvtime = send_at if send_at is not None and send_at > now else None
    if send_at is not None and send_at <= now:
        raise ScheduleError(send_at, "send_at must be in the future")
    for chunk in chunked(numbers, MAX_NUMBERS_PER_REQUEST):
        validate_send(
            chunk,
            body,
            encoding=chosen,
            dlvtime=dlvtime,
            wapurl=wap_url or None,
            replyurl=_REPLY_URL_PLACEHOLDER if reply else None,
            replydays=reply_days if reply else None,
            now=now,
        )
    return CheckedSend(
        encoding=str(chosen),
        segments=segments_of(body, chosen, wap_url),
        reply_days=reply_days if reply else None,
        priority=str(priority),
        kind=str(kind),
    )


def choose_encoding(body: str, encoding: str | None, wap_url: str | None) -> str:
    """The encoding a send of ``body`` uses: PUSH for a link, the one asked, or the text's own.

    Raises ``SmsgoValidationError`` when the asked encoding cannot carry the text.
    """
    if wap_url and encoding is None:
        return str(Encoding.PUSH)
    if encoding is not None:
        encoding = str(Encoding.parse(encoding))
    return str(fit_encoding(body, encoding))


def segments_of(body: str, encoding: str, wap_url: str | None) -> int:
    """Segments (points per number) ``body`` takes in ``encoding`` (with the PUSH link)."""
    if encoding == Encoding.PUSH:
        return int(count_segments(body, encoding, wapurl=wap_url or ""))
    return int(count_segments(body, encoding))


def _check_schedule(send_at: datetime | None, expires_at: datetime | None, now: datetime) -> None:
    for name, value in (("send_at", send_at), ("expires_at", expires_at)):
        if value is None:
            continue
        if not isinstance(value, datetime):
            raise ScheduleError(value, f"{name} must be a datetime")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ScheduleError(value, f"{name} must be an aware datetime (naive given)")
        try:
            value.astimezone(TAIPEI)
        except OverflowError:
            raise ScheduleError(
                value, f"{name} must be a time the gateway can write (year 9999 at the latest)"
            ) from None
    if expires_at is not None:
        if expires_at <= now:
            raise ScheduleError(expires_at, "expires_at must be in the future")
        if send_at is not None and expires_at <= send_at:
            raise ScheduleError(expires_at, "expires_at must be after send_at")


def override_numbers() -> list[str]:
    """``OVERRIDE_RECIPIENTS`` normalised (staging: every SMS goes to these numbers)."""
    configured = smsgo_settings.OVERRIDE_RECIPIENTS
    if not configured:
        return []
    return list(normalize_numbers(configured))


def estimate_points(
    numbers: int, body: str, encoding: str, *, wap_url: str = "", reply: bool
) -> int:
    """Points a message to ``numbers`` receivers costs, request by request of at most 50.

    One point per segment per number; with replies one more per ten SMS,
    rounded up, per request (the client's rule for one request).
    """
    full, rest = divmod(numbers, MAX_NUMBERS_PER_REQUEST)
    per_full = request_points(
        body, MAX_NUMBERS_PER_REQUEST, encoding, wapurl=wap_url, with_reply=reply
    )
    last = request_points(body, rest, encoding, wapurl=wap_url, with_reply=reply) if rest else 0
    return full * per_full + last

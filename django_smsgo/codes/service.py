"""``send_otp()`` and ``verify_otp()``: a one-time code by SMS, checked, and hard to abuse.

A send passes, in this order and all in one transaction, the number's
cooldown, the per-number caps, the per-key caps (the caller's key: usually the
client's IP address), the site-wide caps and the points budgets; any refusal
rolls everything back, so a refused request leaves no trace but the refusal.
The SMS is transactional, at the highest priority, and expires with the code:
a code that could only arrive too late is never sent.

A check counts the attempt first (atomically, against ``OTP_MAX_ATTEMPTS``),
then compares keyed hashes in constant time; a code is used at most once.
"""

from __future__ import annotations

import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db.models import F
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac

from django_smsgo.client.numbers import normalize_number
from django_smsgo.codes import limits
from django_smsgo.codes.errors import BudgetExhausted, CodeRefused, CooldownActive
from django_smsgo.codes.models import OneTimeCode, SendCounter
from django_smsgo.codes.signals import code_budget_exhausted, code_send_refused
from django_smsgo.codes.text import code_message, new_code
from django_smsgo.conf import smsgo_settings
from django_smsgo.models import Message
from django_smsgo.services import locks

DEFAULT_PURPOSE = "verify"
_HASH_SALT = "django_smsgo.codes.code"


@dataclass(frozen=True)
class CodeSent:
    """A code on its way: the stored challenge, its SMS, and until when it is valid."""

    challenge: OneTimeCode
    message: Message
    phone: str
    expires_at: datetime


class CheckResult(StrEnum):
    """What :func:`verify_otp` found."""

    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NONE_PENDING = "none_pending"  # no code sent, or the last one was used already


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of a check; true only when the code was right (``result`` says why not)."""

    result: CheckResult
    attempts_left: int = 0

    def __bool__(self) -> bool:
        return self.result is CheckResult.VERIFIED


def _hash(phone: str, purpose: str, code: str, nonce: str) -> str:
    value = f"{phone}:{purpose}:{nonce}:{code}"
    return nonce + "$" + salted_hmac(_HASH_SALT, value, algorithm="sha256").hexdigest()


def _matches(challenge: OneTimeCode, code: str) -> bool:
    nonce, _, _digest = challenge.code_hash.partition("$")
    guess = _hash(challenge.phone, challenge.purpose, code, nonce)
    return constant_time_compare(guess, challenge.code_hash)


def send_otp(
    phone: Any,
    *,
    key: str | None = None,
    purpose: str = DEFAULT_PURPOSE,
    language: str | None = None,
    created_by: Any = None,
) -> CodeSent:
    """Send a new one-time code to ``phone``; return the :class:`CodeSent`.

    ``key`` identifies the caller for the per-key caps (give the client's IP
    address, or an account id); ``None`` skips them. ``purpose`` keeps codes
    apart (a sign-up code cannot confirm a payment). ``language`` picks the
    text's language (default: the active one). Raises ``InvalidNumberError``
    for a bad number, a :class:`~django_smsgo.codes.errors.CodeRefused` when a
    limit says no (``CooldownActive``, ``SendCapReached``, ``BudgetExhausted``:
    nothing stored, nothing sent), and whatever ``send_sms()`` raises. A new
    code replaces the number's earlier ones for that purpose.
    """
    number = normalize_number(phone)
    if not purpose or len(purpose) > 32:
        raise ValueError(f"purpose {purpose!r} must be 1 to 32 characters")
    now = timezone.now()
    validity = int(smsgo_settings.OTP_VALIDITY)
    code = new_code(int(smsgo_settings.OTP_LENGTH))
    with translation.override(language) if language else nullcontext():
        body = code_message(code, number, validity)
    cooldown = int(smsgo_settings.OTP_COOLDOWN)
    number_subject = limits.subject_digest("number", number)
    caps = [
        *limits.cap_limits(SendCounter.Scope.NUMBER, number, smsgo_settings.OTP_NUMBER_CAPS, now),
        *(
            limits.cap_limits(SendCounter.Scope.KEY, str(key), smsgo_settings.OTP_KEY_CAPS, now)
            if key is not None
            else []
        ),
        *limits.cap_limits(SendCounter.Scope.GLOBAL, "", smsgo_settings.OTP_GLOBAL_CAPS, now),
    ]
    budgets = limits.budget_limits(
        smsgo_settings.OTP_DAILY_BUDGET, smsgo_settings.OTP_MONTHLY_BUDGET, now
    )
    guard = limits.CacheGuard(smsgo_settings.OTP_CACHE)
    try:
        guard.cooldown(number_subject, cooldown, now)
        guard.caps(caps, now)
        # One write transaction (on SQLite it takes the write lock first, so it
        # waits for the lock instead of failing half-way).
        with locks.writing():
            limits.claim_cooldown(number_subject, cooldown, now)
            limits.claim_caps(caps, now)
            sent = _store_and_send(number, purpose, code, body, now, validity, created_by)
            limits.charge_budgets(budgets, sent.message.estimated_points, now)
    except CodeRefused as refusal:
        guard.undo(keep_cooldown=isinstance(refusal, CooldownActive))
        _announce(refusal, number=number, key=key, purpose=purpose, budgets=budgets, now=now)
        raise
    except BaseException:
        guard.undo()
        raise
    return sent


def _store_and_send(
    number: str,
    purpose: str,
    code: str,
    body: str,
    now: datetime,
    validity: int,
    created_by: Any,
) -> CodeSent:
    from django_smsgo.services.sending import send_sms

    expires_at = now + timedelta(seconds=validity)
    # Earlier codes for this number and purpose stop working: only the newest counts.
    OneTimeCode.objects.filter(
        phone=number, purpose=purpose, verified_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    message = send_sms(
        number,
        body,
        kind=Message.Kind.TRANSACTIONAL,
        priority=Message.Priority.HIGH,
        # Never delivered after the code stopped working.
        expires_at=expires_at,
        # Every code text is new; a resend within the window is the cooldown's business.
        allow_duplicate=True,
        created_by=created_by,
    )
    challenge = OneTimeCode.objects.create(
        phone=number,
        purpose=purpose,
        code_hash=_hash(number, purpose, code, secrets.token_hex(8)),
        message=message,
        created_at=now,
        expires_at=expires_at,
        max_attempts=int(smsgo_settings.OTP_MAX_ATTEMPTS),
    )
    return CodeSent(challenge=challenge, message=message, phone=number, expires_at=expires_at)


def _announce(
    refusal: CodeRefused,
    *,
    number: str,
    key: str | None,
    purpose: str,
    budgets: list[limits.Limit],
    now: datetime,
) -> None:
    code_send_refused.send(
        sender=OneTimeCode, refusal=refusal, phone=number, key=key, purpose=purpose
    )
    if isinstance(refusal, BudgetExhausted):
        scope = (
            SendCounter.Scope.DAILY_POINTS
            if refusal.period == "day"
            else SendCounter.Scope.MONTHLY_POINTS
        )
        budget = next(b for b in budgets if b.scope == scope)
        first = limits.mark_exhausted(budget, now)
        code_budget_exhausted.send(
            sender=OneTimeCode,
            period=refusal.period,
            budget=refusal.budget,
            spent=refusal.spent,
            first=first,
        )


def verify_otp(phone: Any, code: str, *, purpose: str = DEFAULT_PURPOSE) -> CodeCheck:
    """Check ``code`` for ``phone``: a :class:`CodeCheck`, true only when it is right.

    Only the newest code of the number and purpose counts; it is accepted at
    most once, before it expires, within ``OTP_MAX_ATTEMPTS`` tries (a wrong
    try and a right one count alike, atomically, so concurrent guesses cannot
    get more tries). Raises ``InvalidNumberError`` for a bad number.
    """
    number = normalize_number(phone)
    guess = str(code or "").strip()
    now = timezone.now()
    with locks.writing():
        challenge = (
            OneTimeCode.objects.filter(phone=number, purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        if challenge is None or challenge.verified_at is not None:
            return CodeCheck(CheckResult.NONE_PENDING)
        if challenge.expires_at <= now:
            return CodeCheck(CheckResult.EXPIRED)
        counted = OneTimeCode.objects.filter(
            pk=challenge.pk,
            verified_at__isnull=True,
            expires_at__gt=now,
            attempts__lt=F("max_attempts"),
        ).update(attempts=F("attempts") + 1)
        if not counted:
            return _why_not(challenge.pk, now)
        challenge.refresh_from_db(fields=["attempts"])
        left = max(0, challenge.max_attempts - challenge.attempts)
        if not _matches(challenge, guess):
            return CodeCheck(CheckResult.WRONG, attempts_left=left)
        used = OneTimeCode.objects.filter(pk=challenge.pk, verified_at__isnull=True).update(
            verified_at=now
        )
    if not used:
        return CodeCheck(CheckResult.NONE_PENDING)
    return CodeCheck(CheckResult.VERIFIED, attempts_left=left)


def _why_not(pk: int, now: datetime) -> CodeCheck:
    challenge = OneTimeCode.objects.get(pk=pk)
    if challenge.verified_at is not None:
        return CodeCheck(CheckResult.NONE_PENDING)
    if challenge.expires_at <= now:
        return CodeCheck(CheckResult.EXPIRED)
    return CodeCheck(CheckResult.TOO_MANY_ATTEMPTS)

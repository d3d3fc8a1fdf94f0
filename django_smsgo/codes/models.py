"""What the code service keeps: the codes (hashed), the cooldowns and the send counters.

Every limit is a row that one conditional ``UPDATE`` moves on, so two
concurrent requests can never both pass a limit: the database orders them
(a row lock on PostgreSQL, the write lock on SQLite) and the second sees the
first's change. Caller keys and numbers in the counters are stored only as
keyed digests: the counters never hold an IP address or a phone number.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_smsgo.models import PHONE_MAX_LENGTH

DIGEST_LENGTH = 64


class OneTimeCode(models.Model):
    """One code sent to one number; only a keyed hash of the code is stored."""

    phone = models.CharField(_("phone"), max_length=PHONE_MAX_LENGTH)
    purpose = models.CharField(_("purpose"), max_length=32)
    code_hash = models.CharField(_("code hash"), max_length=100, editable=False)
    message = models.ForeignKey(
        "django_smsgo.Message",
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"))
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["phone", "purpose", "created_at"], name="smsgo_code_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.phone}"


class CodeCooldown(models.Model):
    """When a number last got a code: the next one waits ``OTP_COOLDOWN`` seconds."""

    subject = models.CharField(_("number digest"), max_length=DIGEST_LENGTH, unique=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True)

    class Meta:
        verbose_name = _("code cooldown")
        verbose_name_plural = _("code cooldowns")

    def __str__(self) -> str:
        return f"cooldown {self.subject[:8]}"


class SendCounter(models.Model):
    """Sends (or points) counted in one window for one scope and subject."""

    class Scope(models.TextChoices):
        NUMBER = "number", _("Per number")
        KEY = "key", _("Per caller key")
        GLOBAL = "global", _("Whole site")
        DAILY_POINTS = "daily_points", _("Points per day")
        MONTHLY_POINTS = "monthly_points", _("Points per month")

    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices)
    subject = models.CharField(_("subject digest"), max_length=DIGEST_LENGTH)
    window = models.PositiveIntegerField(_("window (seconds)"))
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveBigIntegerField(_("count"), default=0)
    exhausted_at = models.DateTimeField(_("first refusal"), null=True, blank=True)

    class Meta:
        verbose_name = _("send counter")
        verbose_name_plural = _("send counters")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "subject", "window", "window_start"],
                name="smsgo_code_counter_unique",
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="smsgo_code_counter_start")]

    def __str__(self) -> str:
        return f"{self.scope} {self.count} since {self.window_start:%Y-%m-%d %H:%M}"

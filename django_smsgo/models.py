"""The app's records: what was asked for, what the gateway was told, and what it said back.

``Message`` is one text to one or more ``Recipient`` numbers. Dispatch sends the
recipients in ``Batch`` es of at most 50, one gateway request each; the gateway
answers each request with one msgid, so a recipient is identified at the
gateway by the pair (batch msgid, phone). Every status observation, from a
Phase-Two callback or from polling, is kept in the append-only
``DeliveryReport`` log; receivers' answers are ``Reply`` rows; numbers that
opted out are ``Suppression`` rows.

Each status field has its table of allowed moves here, beside its choices
(:data:`MESSAGE_TRANSITIONS`, :data:`BATCH_TRANSITIONS`,
:data:`RECIPIENT_TRANSITIONS`); the querysets read them. The rows change
status only through :mod:`django_smsgo.services.states`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections, models
from django.db.models import Count
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from django_smsgo.reasons import describe

PHONE_MAX_LENGTH = 20
MSGID_MAX_LENGTH = 32
#: The statuses of a recipient the gateway took whose fate is not known yet
#: (``Recipient.Status`` values, spelled out for the index of them): what
#: polling asks about.
AWAITING_REPORT = ("submitted", "uncertain")
REASON_CODE_MAX_LENGTH = 32


class ReasonFields(models.Model):
    """Why the row is in its state: a code of :class:`django_smsgo.reasons.Reason` and its data.

    The sentence is written when it is read (:attr:`reason_text`), in the
    reader's language; see :mod:`django_smsgo.reasons`.
    """

    reason_code = models.CharField(
        _("reason"), max_length=REASON_CODE_MAX_LENGTH, blank=True, editable=False
    )
    reason_params = models.JSONField(_("reason details"), default=dict, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def reason_text(self) -> str:
        """The reason in words, in the active language ('' when there is none)."""
        return describe(self.reason_code, self.reason_params)


class MessageQuerySet(models.QuerySet["Message"]):
    def open(self) -> MessageQuerySet:
        """Messages not in a final status."""
        return self.filter(status__in=open_statuses(MESSAGE_TRANSITIONS))

    def dispatchable(self) -> MessageQuerySet:
        """Messages dispatch may still send: queued, or being sent."""
        return self.filter(status__in=(Message.Status.QUEUED, Message.Status.SENDING))

    def by_idempotency_key(self, key: str | None) -> Message | None:
        """The message stored under ``key``, or None (also for no key)."""
        return None if key is None else self.filter(idempotency_key=key).first()

    def tagged(self, tag: str) -> MessageQuerySet:
        """Messages whose ``tags`` hold ``tag`` (exactly), on every supported database."""
        if connections[self.db].vendor != "sqlite":
            return self.filter(tags__contains=[tag])
        # SQLite has no JSON containment lookup; its json_each() reads the list.
        table = connections[self.db].ops.quote_name(self.model._meta.db_table)
        has_tag = RawSQL(  # noqa: S611 - the table name is ours, the tag a parameter
            f"EXISTS (SELECT 1 FROM json_each({table}.tags) WHERE json_each.value = %s)",  # noqa: S608
            [tag],
            output_field=models.BooleanField(),
        )
        return self.alias(_has_tag=has_tag).filter(_has_tag=True)


class Message(ReasonFields):
    """One text sent to one or more recipients."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SCHEDULED = "scheduled", _("Scheduled")
        SUBMITTED = "submitted", _("Submitted")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        UNCERTAIN = "uncertain", _("Uncertain")

    class Priority(models.TextChoices):
        HIGH = "high", _("High (one-time codes)")
        NORMAL = "normal", _("Normal")
        LOW = "low", _("Low (campaigns)")

    class Kind(models.TextChoices):
        # Transactional: codes, order and delivery notices, anything the
        # receiver asked for. Marketing: everything else; the opt-out list
        # and the marketing rules apply.
        TRANSACTIONAL = "transactional", _("Transactional")
        MARKETING = "marketing", _("Marketing")

    body = models.TextField(_("text"))
    body_hash = models.CharField(
        _("text fingerprint"),
        max_length=64,
        editable=False,
        db_index=True,
        help_text=_("SHA-256 of the text, for the duplicate guard."),
    )
    encoding = models.CharField(_("encoding"), max_length=8)
    send_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("Not sent at all when it cannot be sent before this time."),
    )
    reply = models.BooleanField(_("collect replies"), default=False)
    reply_days = models.PositiveSmallIntegerField(_("reply days"), null=True, blank=True)
    wap_url = models.CharField(_("WAP push URL"), max_length=300, blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=Kind.choices,
        default=Kind.MARKETING,
        db_index=True,
        help_text=_(
            "Transactional messages (codes, notices) are sent to opted-out numbers too; "
            "marketing messages are not."
        ),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=255, null=True, blank=True, unique=True
    )
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    segments = models.PositiveSmallIntegerField(_("segments per recipient"), default=1)
    estimated_points = models.PositiveIntegerField(_("estimated points"), default=0)
    points_charged = models.PositiveIntegerField(_("points charged"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    dispatch_attempts = models.PositiveSmallIntegerField(
        _("dispatch attempts"),
        default=0,
        editable=False,
        help_text=_("Dispatch runs that ended with recipients left to try again."),
    )
    dispatch_due_at = models.DateTimeField(
        _("dispatch due"),
        null=True,
        blank=True,
        help_text=_(
            "When the dispatch task is expected to run (enqueue or retry time); the sweeper "
            "enqueues it again when it is overdue."
        ),
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    resend_of = models.ForeignKey(
        "self",
        verbose_name=_("resend of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resends",
        help_text=_("The message whose recipients staff chose to send again."),
    )
    metadata = models.JSONField(
        _("metadata"),
        default=dict,
        blank=True,
        help_text=_("A JSON object the project ties to the message (its own ids, say)."),
    )
    tags = models.JSONField(
        _("tags"),
        default=list,
        blank=True,
        help_text=_("Short labels the project gives the message, to filter by."),
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("send_sms", _("Can send SMS")),
            ("cancel_sms", _("Can cancel scheduled SMS")),
        ]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="smsgo_msg_status_queued"),
            models.Index(fields=["status", "dispatch_due_at"], name="smsgo_msg_status_due"),
        ]

    def __str__(self) -> str:
        preview = self.body if len(self.body) <= 40 else self.body[:39] + "…"
        return f"#{self.pk} {preview}"


class BatchQuerySet(models.QuerySet["Batch"]):
    def in_flight(self) -> BatchQuerySet:
        """Batches claimed by a worker whose answer is not recorded yet."""
        return self.filter(state=Batch.State.CLAIMED)

    def lease_expired(self, now: Any) -> BatchQuerySet:
        """Claimed batches whose worker's lease ran out before ``now``."""
        return self.in_flight().filter(lease_expires_at__lt=now)


class Batch(ReasonFields):
    """One gateway send request: at most 50 recipients of one message, one msgid.

    A batch is created when a worker claims recipients, so a claimed recipient
    (one with a batch) is never claimed again. The batch id is part of the
    callback URLs, which lets a delivery report be matched to its batch even
    before the msgid is stored, or when the answer that carried the msgid was
    lost.
    """

    class State(models.TextChoices):
        CLAIMED = "claimed", _("Claimed (being sent)")
        SUBMITTED = "submitted", _("Submitted")
        FAILED = "failed", _("Failed")
        UNCERTAIN = "uncertain", _("Uncertain")
        CANCELLED = "cancelled", _("Cancelled")

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="batches"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.CLAIMED, db_index=True
    )
    msgid = models.CharField(
        _("gateway msgid"), max_length=MSGID_MAX_LENGTH, blank=True, db_index=True
    )
    api_url = models.CharField(_("gateway URL"), max_length=200, blank=True)
    statuscode = models.IntegerField(_("gateway status code"), null=True, blank=True)
    statusstr = models.CharField(_("gateway status text"), max_length=200, blank=True)
    points = models.IntegerField(_("points charged"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), auto_now_add=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["state", "lease_expires_at"], name="smsgo_batch_lease"),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.msgid or self.state})"


class RecipientQuerySet(models.QuerySet["Recipient"]):
    def unclaimed(self) -> RecipientQuerySet:
        """Queued recipients no batch has claimed: what dispatch still has to send."""
        return self.filter(status=Recipient.Status.QUEUED, batch__isnull=True)

    def open(self) -> RecipientQuerySet:
        """Recipients whose status may still change."""
        return self.filter(status__in=open_statuses(RECIPIENT_TRANSITIONS))

    def status_counts(self) -> dict[str, int]:
        """How many of these recipients are in each status (statuses with none left out)."""
        rows = self.values_list("status").annotate(n=Count("pk")).order_by()
        return dict(rows)


class Recipient(ReasonFields):
    """One number of a message, and what became of the SMS sent to it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SUBMITTED = "submitted", _("Submitted")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        UNCERTAIN = "uncertain", _("Uncertain")

    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        related_name="recipients",
        db_index=False,  # smsgo_rcpt_msg_id (message, id) serves it
    )
    phone = models.CharField(_("phone"), max_length=PHONE_MAX_LENGTH)
    intended_phone = models.CharField(
        _("intended phone"),
        max_length=PHONE_MAX_LENGTH,
        blank=True,
        help_text=_("The number asked for, when OVERRIDE_RECIPIENTS sent it elsewhere."),
    )
    batch = models.ForeignKey(
        Batch,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recipients",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    gateway_statuscode = models.IntegerField(_("gateway status code"), null=True, blank=True)
    gateway_status = models.CharField(_("gateway status"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    final_at = models.DateTimeField(_("final status at"), null=True, blank=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["pk"]
        constraints = [
            # One recipient per number and message; under OVERRIDE_RECIPIENTS the
            # intended number is the one that must be unique.
            models.UniqueConstraint(
                fields=["message", "phone"],
                condition=models.Q(intended_phone=""),
                name="smsgo_recipient_unique_phone",
            ),
            models.UniqueConstraint(
                fields=["message", "intended_phone"],
                condition=~models.Q(intended_phone=""),
                name="smsgo_recipient_unique_intended",
            ),
        ]
        indexes = [
            # Dispatch claims a message's next unclaimed recipients in id
            # order: an index of only those, whatever the message's size and
            # however fresh the table's statistics (the planner once read all
            # of a message's rows through the next index to find none left).
            models.Index(
                fields=["message", "id"],
                condition=models.Q(status="queued", batch__isnull=True),
                name="smsgo_rcpt_unclaimed",
            ),
            # The admin pages through a message's recipients in id order; it
            # also serves every lookup by message (the foreign key has no
            # index of its own).
            models.Index(fields=["message", "id"], name="smsgo_rcpt_msg_id"),
            # A message's open recipients, and only those (queued, submitted,
            # uncertain: RECIPIENT_TRANSITIONS' open statuses, spelled out for
            # Meta; a test keeps the two in step). A final report looks in it
            # for another one of its message, never stepping over the settled
            # ones; settling writes no entry here.
            models.Index(
                fields=["message", "id"],
                condition=models.Q(status__in=["queued", "submitted", "uncertain"]),
                name="smsgo_rcpt_open",
            ),
            # Polling and giving up read the recipients awaiting a report by
            # age. It holds no queued recipient, so a look for a message's
            # open ones (queued included) can never be planned through it: it
            # holds the awaiting recipients of every message.
            models.Index(
                fields=["status", "submitted_at"],
                condition=models.Q(status__in=AWAITING_REPORT),
                name="smsgo_rcpt_to_poll",
            ),
            models.Index(fields=["phone", "created_at"], name="smsgo_rcpt_phone_created"),
            # The admin's seven-day summary counts the recipients refused
            # before the gateway took them (failed, never submitted) by the
            # day they failed: an index of only those, not a read of the table.
            models.Index(
                fields=["updated_at"],
                condition=models.Q(status="failed", submitted_at__isnull=True),
                name="smsgo_rcpt_refused",
            ),
        ]

    def __str__(self) -> str:
        return self.phone


class RecipientTally(models.Model):
    """A change in how many of a message's recipients are in one status, written by the database.

    Triggers on the recipients' table (migration ``0012``) add rows for each
    statement that inserts, moves or deletes recipients: per message and
    status, the change (``+50`` submitted and ``-50`` queued for a batch
    recorded). A message's count in a status is the sum of its rows, so the
    admin's delivery figures read a few rows instead of counting 100,000
    recipients, and no writer waits for another: the rows are only ever
    added, never updated. :mod:`django_smsgo.services.tallies` reads them and
    folds a message's rows into one per status when they pile up.

    Nothing in Python writes a change: the triggers are the one writer, so no
    path (a queryset ``update()``, a raw statement, a data migration) can
    leave the figures behind the rows.
    """

    # No constraint: a message's rows are removed by the trigger on messages,
    # after its recipients' deletes have added theirs.
    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16)
    change = models.IntegerField(_("change"))

    class Meta:
        verbose_name = _("recipient tally")
        verbose_name_plural = _("recipient tallies")

    def __str__(self) -> str:
        return f"{self.message_id} {self.status} {self.change:+d}"


class DeliveryReport(models.Model):
    """Append-only log of every status observation, kept as it arrived.

    ``outcome`` says what the observation did: changed the recipient, repeated
    what was known, came after a final state, contradicted one, or is waiting
    for its recipient to be known.

    ``recipient`` and ``batch`` have no foreign-key constraint in the database
    (see the fields): delete recipients and batches through the ORM (or the
    ``smsgo_cleanup`` command), which removes or unlinks their reports.
    """

    class Source(models.TextChoices):
        CALLBACK = "callback", _("Phase-Two callback")
        POLL = "poll", _("Status query")
        SIMULATED = "simulated", _("Simulated (test backend)")

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Duplicate")
        STALE = "stale", _("Ignored: recipient already final")
        CONFLICT = "conflict", _("Conflicting final state")
        PENDING = "pending", _("Waiting for its recipient")
        UNRESOLVED = "unresolved", _("Could not be matched to a recipient")

    # No foreign-key constraints in the database for these two: the check
    # PostgreSQL makes for every inserted report was a fifth of the work of
    # storing polled answers. What it guarded is kept by the writers: a report
    # is only ever inserted for a recipient whose row the same transaction has
    # locked (its batch cannot go while the recipient refers to it), and the
    # ORM's ``on_delete`` removes a deleted recipient's reports and empties a
    # deleted batch's references, as a constraint would.
    recipient = models.ForeignKey(
        Recipient,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        db_constraint=False,
    )
    batch = models.ForeignKey(
        Batch,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        db_constraint=False,
    )
    msgid = models.CharField(_("gateway msgid"), max_length=MSGID_MAX_LENGTH)
    phone = models.CharField(_("phone"), max_length=PHONE_MAX_LENGTH, blank=True)
    statuscode = models.IntegerField(_("status code"), null=True, blank=True)
    statusstr = models.CharField(_("status"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    raw = models.JSONField(_("raw parameters"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("delivery report")
        verbose_name_plural = _("delivery reports")
        ordering = ["received_at", "pk"]
        # Every report arrival writes each of these indexes: only what is looked
        # up. Plain indexes (no ``db_index``), so PostgreSQL gets no
        # ``LIKE`` index beside them: msgids are only ever compared exactly.
        indexes = [
            # The admin's search by the exact number (``=phone``).
            models.Index(fields=["phone"], name="smsgo_report_phone"),
            # Pending reports by msgid, the admin's search by the exact msgid.
            models.Index(fields=["msgid"], name="smsgo_report_msgid"),
            # The few reports that wait or need a look (pending ones are
            # applied later; the admin filters by outcome). Applied and
            # duplicate reports, nearly all of them, stay out of it.
            models.Index(
                fields=["outcome"],
                name="smsgo_report_rare_outcome",
                condition=models.Q(outcome__in=["pending", "unresolved", "conflict", "stale"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.msgid} {self.phone} {self.statusstr}"


class Reply(models.Model):
    """An SMS a receiver sent back, forwarded by the gateway to our reply URL."""

    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )
    recipient = models.ForeignKey(
        Recipient,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )
    msgid = models.CharField(_("gateway msgid"), max_length=MSGID_MAX_LENGTH, db_index=True)
    from_phone = models.CharField(_("from"), max_length=PHONE_MAX_LENGTH, db_index=True)
    to_phone = models.CharField(_("to"), max_length=PHONE_MAX_LENGTH, blank=True)
    body = models.TextField(_("text"), blank=True)
    encoding = models.CharField(_("encoding"), max_length=8, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    is_opt_out = models.BooleanField(_("opt-out"), default=False)
    raw = models.JSONField(_("raw parameters"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.from_phone}: {self.body[:40]}"


class Suppression(models.Model):
    """A number that must not receive marketing SMS (it opted out, or staff added it)."""

    class Reason(models.TextChoices):
        OPT_OUT = "opt_out", _("Replied with an opt-out keyword")
        MANUAL = "manual", _("Added by staff")

    phone = models.CharField(_("phone"), max_length=PHONE_MAX_LENGTH, unique=True)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    reply = models.ForeignKey(
        Reply,
        verbose_name=_("reply"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed number")
        verbose_name_plural = _("suppressed numbers")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.phone


class BalanceSnapshotQuerySet(models.QuerySet["BalanceSnapshot"]):
    def newest(self) -> BalanceSnapshot | None:
        """The most recent snapshot, or None when the balance was never asked."""
        return self.order_by("-checked_at", "-pk").first()


class BalanceSnapshot(models.Model):
    """The account balance as the gateway reported it at one moment."""

    points = models.IntegerField(_("points"))
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True, db_index=True)

    objects = BalanceSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
        ordering = ["-checked_at", "-pk"]
        get_latest_by = "checked_at"

    def __str__(self) -> str:
        return f"{self.points} points at {self.checked_at:%Y-%m-%d %H:%M}"


class JobRun(models.Model):
    """When a periodic job (sweep, poll, balance) last ran, whoever ran it.

    ``manage.py smsgo_jobs`` reads it to know which job is due, and claims a
    run by moving ``started_at`` conditionally, so two runners (two cron
    lines, a loop and a cron line) do not run the same job at once. The Celery
    tasks record their runs here too, so ``smsgo_doctor`` can tell whether the
    jobs really run, whoever runs them.
    """

    name = models.CharField(_("job"), max_length=32, unique=True)
    started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    runner = models.CharField(_("run by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")

    def __str__(self) -> str:
        return f"{self.name} finished {self.finished_at or 'never'}"


class CallbackProbe(models.Model):
    """A signed probe of ``CALLBACK_BASE_URL`` that reached this site's callback views.

    ``smsgo_doctor`` requests a probe URL through ``CALLBACK_BASE_URL`` and
    then looks for the probe's nonce in its own database: only a server that
    shares this site's database can have written it, so a port that leads to
    another server is caught even when that server answers 200.
    """

    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    arrived_at = models.DateTimeField(_("arrived"), auto_now_add=True)

    class Meta:
        verbose_name = _("callback probe")
        verbose_name_plural = _("callback probes")

    def __str__(self) -> str:
        return f"probe {self.nonce[:8]}… at {self.arrived_at:%Y-%m-%d %H:%M:%S}"


# --- the state machines ---------------------------------------------------------------------
# For each status, the statuses it may move to. The writers are in
# django_smsgo.services.states; the querysets above read the final statuses.

_M = Message.Status
_B = Batch.State
_R = Recipient.Status

MESSAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    _M.DRAFT: frozenset({_M.QUEUED, _M.CANCELLED}),
    _M.QUEUED: frozenset({_M.SENDING, _M.CANCELLED, _M.FAILED}),
    _M.SENDING: frozenset(
        {_M.SCHEDULED, _M.SUBMITTED, _M.COMPLETED, _M.UNCERTAIN, _M.FAILED, _M.CANCELLED}
    ),
    _M.SCHEDULED: frozenset({_M.SUBMITTED, _M.COMPLETED, _M.CANCELLED, _M.UNCERTAIN, _M.FAILED}),
    _M.SUBMITTED: frozenset({_M.COMPLETED, _M.UNCERTAIN}),
    _M.UNCERTAIN: frozenset({_M.SUBMITTED, _M.SCHEDULED, _M.COMPLETED, _M.FAILED}),
    _M.COMPLETED: frozenset(),
    _M.FAILED: frozenset(),
    _M.CANCELLED: frozenset(),
}

BATCH_TRANSITIONS: dict[str, frozenset[str]] = {
    # claimed: a worker holds it; the request may be on its way.
    _B.CLAIMED: frozenset({_B.SUBMITTED, _B.FAILED, _B.UNCERTAIN}),
    # uncertain: perhaps sent; a late answer or a report proves the msgid.
    _B.UNCERTAIN: frozenset({_B.SUBMITTED}),
    _B.SUBMITTED: frozenset({_B.CANCELLED}),
    _B.FAILED: frozenset(),
    _B.CANCELLED: frozenset(),
}

RECIPIENT_TRANSITIONS: dict[str, frozenset[str]] = {
    _R.QUEUED: frozenset({_R.SUBMITTED, _R.DELIVERED, _R.FAILED, _R.CANCELLED, _R.UNCERTAIN}),
    _R.SUBMITTED: frozenset({_R.DELIVERED, _R.FAILED, _R.CANCELLED}),
    _R.UNCERTAIN: frozenset({_R.SUBMITTED, _R.DELIVERED, _R.FAILED}),
    _R.DELIVERED: frozenset(),
    _R.FAILED: frozenset(),
    _R.CANCELLED: frozenset(),
}


def final_statuses(table: dict[str, frozenset[str]]) -> frozenset[str]:
    """The statuses of ``table`` nothing moves out of."""
    return frozenset(status for status, targets in table.items() if not targets)


def open_statuses(table: dict[str, frozenset[str]]) -> tuple[str, ...]:
    """The statuses of ``table`` that may still change, in the table's order."""
    return tuple(status for status, targets in table.items() if targets)


class ConsentRecord(models.Model):
    """One refusal of marketing SMS, or its withdrawal, kept as evidence (append-only).

    Written whenever a number opts out or back in: by a reply with a keyword,
    by staff in the admin, or through the API. ``reply_text`` keeps the words
    of the reply even if the ``Reply`` row is removed later.
    """

    class Action(models.TextChoices):
        OPT_OUT = "opt_out", _("Opted out of marketing")
        OPT_IN = "opt_in", _("Opted back in to marketing")

    class Source(models.TextChoices):
        REPLY = "reply", _("Reply")
        STAFF = "staff", _("Staff")
        API = "api", _("API")

    phone = models.CharField(_("phone"), max_length=PHONE_MAX_LENGTH, db_index=True)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    reply = models.ForeignKey(
        Reply,
        verbose_name=_("reply"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reply_text = models.TextField(_("reply text"), blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("opt-out record")
        verbose_name_plural = _("opt-out records")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.phone} {self.action} ({self.source})"


class SavedText(models.Model):
    """A text staff send often (常用簡訊), its placeholders (``{name}``) filled per recipient.

    Chosen in the admin's compose form; the values come from the uploaded
    file's columns (``services/personalising.py``, ``services/placeholders.py``).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders in braces, like {name} or {code}, are filled in from the columns "
            "of the uploaded file; write {{ or }} for a brace."
        ),
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=Message.Kind.choices, default=Message.Kind.MARKETING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("saved text")
        verbose_name_plural = _("saved texts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

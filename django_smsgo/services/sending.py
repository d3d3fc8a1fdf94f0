"""``send_sms()`` and friends: validate a send, store it, and hand it to dispatch.

The order is fixed and every refusal happens before anything is stored:

1. idempotency: a known ``idempotency_key`` returns its message, nothing sent;
2. Taiwan's carrier rules (:mod:`~django_smsgo.services.carrier_rules`): the
   sender tag and the opt-out line added or required, every link and number of
   the text registered, a marketing send in the quiet hours held to their end;
   validation by the client's own rules then judges the final text and time
   (numbers normalised and de-duplicated, every bad number named in one error;
   encoding; options; schedule);
3. suppression: opted-out numbers are stored as ``cancelled`` recipients with
   the reason (unless the message is transactional: ``kind="transactional"``);
4. the balance guard: estimated points against the last known balance;
5. readiness: a send that could never go out (no credentials, no way to
   dispatch) is refused with the setting to fix;
6. one transaction, serialised with every other send of the same text: the
   idempotency key again, the duplicate guard (the same text to the same
   number within ``DUPLICATE_WINDOW`` seconds is refused unless
   ``allow_duplicate=True``), the points budget (``POINTS_BUDGET``, serialised
   per kind), then the message and its recipients (bulk
   inserts in chunks, rows generated lazily), and dispatch on commit, so a
   send inside a transaction that rolls back sends nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from django_smsgo.backends import get_backend
from django_smsgo.client.numbers import chunked
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import SmsgoError
from django_smsgo.models import BalanceSnapshot, Message, Recipient
from django_smsgo.reasons import Reason
from django_smsgo.services import carrier_rules, dispatching, hooks, locks, validation
from django_smsgo.services.errors import (
    DuplicateMessageError,
    InsufficientBalanceError,
    MessageNotQueueable,
)
from django_smsgo.services.states.message import transition
from django_smsgo.services.suppression import suppressed_among

logger = logging.getLogger(__name__)

#: Recipient rows per INSERT; also the size of IN (...) lists in guard queries.
INSERT_CHUNK = 1000

#: Recipient statuses staff may send again, as a new message.
RESENDABLE = (Recipient.Status.UNCERTAIN, Recipient.Status.FAILED)


@dataclass
class SendPlan:
    """A validated send: everything needed to store the message, nothing stored yet."""

    numbers: list[str]
    body: str
    encoding: str
    segments: int
    estimated_points: int
    send_at: datetime | None = None
    expires_at: datetime | None = None
    reply: bool = False
    reply_days: int | None = None
    wap_url: str = ""
    priority: str = Message.Priority.NORMAL
    kind: str = Message.Kind.MARKETING
    idempotency_key: str | None = None
    allow_duplicate: bool = False
    created_by: Any = None
    resend_of: Message | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    suppressed: set[str] = field(default_factory=set)
    overrides: list[str] = field(default_factory=list)
    #: What the carrier rules did (tag or footer added, held for the quiet hours).
    rule_notes: tuple[carrier_rules.RuleNote, ...] = ()

    @property
    def held(self) -> bool:
        """True when the quiet hours set or moved ``send_at``."""
        return any(note.code in carrier_rules.QUIET_HOURS_NOTES for note in self.rule_notes)

    @property
    def sendable(self) -> list[str]:
        """The numbers that will really be sent to (suppressed ones left out)."""
        return [n for n in self.numbers if n not in self.suppressed]


@dataclass(frozen=True)
class Stored:
    """A message :func:`store` returned, and whether this call created it."""

    message: Message
    created: bool


def send_sms(
    to: str | Iterable[str],
    body: str,
    *,
    encoding: str | None = None,
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
    reply: bool = False,
    reply_days: int | None = None,
    wap_url: str | None = None,
    priority: str | None = None,
    idempotency_key: str | None = None,
    allow_duplicate: bool = False,
    created_by: Any = None,
    kind: str | None = None,
    metadata: dict[str, Any] | None = None,
    tags: Sequence[str] | None = None,
) -> Message:
    """Send ``body`` to ``to`` (one number or an iterable of numbers); return the ``Message``.

    Every number is validated and normalised before anything is stored; a bad
    input raises a ``SmsgoValidationError`` naming the value and the rule. The
    message and its recipients are stored in one transaction and dispatched
    when it commits. ``send_at`` (aware) schedules it at the gateway;
    ``expires_at`` (aware) drops it if it cannot be sent by then. Calling again
    with the same ``idempotency_key`` returns the first message and sends
    nothing (an empty key is no key). ``kind`` is ``"marketing"`` (the
    default: numbers on the opt-out list are left out) or ``"transactional"``
    (codes, notices: sent to them too). ``metadata`` (a JSON object) and
    ``tags`` (short strings) are stored with the message and passed to every
    signal about it. ``pre_send`` receivers may change the send or cancel it
    (``SmsgoCancelSend`` reaches the caller); ``post_send`` tells the outcome.
    Raises ``DuplicateMessageError`` (same text to a number within
    ``DUPLICATE_WINDOW``), ``InsufficientBalanceError`` (cannot be paid for)
    and ``SmsgoConfigurationError`` (the settings keep it from going out).
    """
    return send(
        to,
        body,
        encoding=encoding,
        send_at=send_at,
        expires_at=expires_at,
        reply=reply,
        reply_days=reply_days,
        wap_url=wap_url,
        priority=priority,
        idempotency_key=idempotency_key,
        allow_duplicate=allow_duplicate,
        created_by=created_by,
        kind=kind,
        metadata=metadata,
        tags=tags,
    ).message


def send(to: str | Iterable[str], body: str, **options: Any) -> Stored:
    """:func:`send_sms`, also telling whether the message is new or the key's earlier one."""
    return _plan_and_store(to, body, queue=True, **options)


def create_draft(to: str | Iterable[str], body: str, **options: Any) -> Message:
    """Validate like :func:`send_sms` and store a ``draft`` message that nothing sends yet.

    :func:`queue_message` sends it later (the admin and the API use this pair).
    """
    return _plan_and_store(to, body, queue=False, **options).message


def _plan_and_store(to: str | Iterable[str], body: str, *, queue: bool, **options: Any) -> Stored:
    key = validation.idempotency_key(options.pop("idempotency_key", None))
    # A key already used returns its message even when the same input would
    # no longer pass (its schedule has passed, say): that is what a retry wants.
    earlier = Message.objects.by_idempotency_key(key)
    if earlier is not None:
        return Stored(earlier, created=False)
    sms = hooks.before_send(to, body, options)
    try:
        plan = plan_send(
            hooks.receivers_of(sms, to), sms.body, idempotency_key=key, **hooks.send_options(sms)
        )
        stored = store(plan, queue=queue)
    except SmsgoError as error:
        hooks.after_send(sms, None, hooks.REFUSED, error)
        raise
    if stored.created:
        hooks.after_send(sms, stored.message, hooks.QUEUED if queue else hooks.DRAFT)
    return stored


def queue_message(message: Message) -> bool:
    """Queue a draft for sending; it is dispatched on commit.

    Returns False when the message had been queued already (a second click
    does nothing); raises ``MessageNotQueueable`` for anything but a draft.
    """
    if message.status not in (Message.Status.DRAFT, Message.Status.QUEUED):
        raise MessageNotQueueable(
            f"Message {message.pk} is {message.status}; only a draft can be queued."
        )
    check_ready()
    now = timezone.now()
    held: dict[str, Any] = {}
    if message.status == Message.Status.DRAFT:
        # A draft written in the afternoon and sent at night is sent at night:
        # the quiet hours judge the moment it is queued.
        send_at, note = carrier_rules.hold_for_quiet_hours(
            message.kind, send_at=message.send_at, expires_at=message.expires_at, now=now
        )
        if note is not None:
            held = {
                "send_at": send_at,
                "reason": Reason.QUIET_HOURS,
                "reason_params": note.reason_params(),
            }
    with locks.writing():
        if message.status == Message.Status.DRAFT:
            # A draft spends its points when it is queued: the budget is checked now.
            carrier_rules.check_budget(message.kind, message.estimated_points, now=now)
        queued = transition(
            message, Message.Status.QUEUED, queued_at=now, dispatch_due_at=now, **held
        )
        if queued:
            dispatching.dispatch_on_commit(message)
    return queued


def send_mass_sms(
    datatuple: Iterable[tuple[str | Iterable[str], str]], **options: Any
) -> list[Message]:
    """Send personalised texts: ``[(to, body), ...]``, like Django's ``send_mass_mail``.

    Pairs with the same text are merged into one message (so each distinct text
    costs ceil(numbers/50) gateway requests). Every pair is validated before any
    is stored, and all messages are stored in one transaction. ``options`` are
    those of :func:`send_sms` (an ``idempotency_key`` is not accepted: each
    message needs its own).
    """
    if "idempotency_key" in options:
        raise TypeError("send_mass_sms() takes no idempotency_key; use send_sms() per text.")
    by_body: dict[str, list[Any]] = {}
    for to, body in datatuple:
        by_body.setdefault(body, []).extend(validation.as_number_list(to))
    outgoing = [hooks.before_send(numbers, body, options) for body, numbers in by_body.items()]
    try:
        plans = [plan_send(sms.numbers, sms.body, **hooks.send_options(sms)) for sms in outgoing]
        with locks.writing():
            messages = [store(plan, queue=True).message for plan in plans]
    except SmsgoError as error:
        for sms in outgoing:
            hooks.after_send(sms, None, hooks.REFUSED, error)
        raise
    for sms, message in zip(outgoing, messages, strict=True):
        hooks.after_send(sms, message, hooks.QUEUED)
    return messages


def discard_draft(message_id: int, *, created_by: Any) -> bool:
    """Forget a draft that a newer draft rewrites; True when it was removed.

    Only a draft (nothing was queued or sent, no point spent) of the same
    author is removed; anything else stays as it is, so a colleague's work or a
    message that went out in the meantime is never lost.
    """
    with locks.writing():
        deleted, _rows = Message.objects.filter(
            pk=message_id, status=Message.Status.DRAFT, created_by=created_by
        ).delete()
    return bool(deleted)


def resend_recipients(
    recipients: Iterable[Recipient], *, created_by: Any = None, allow_duplicate: bool = True
) -> Message:
    """Send the message of ``recipients`` again to exactly those numbers, as a NEW message.

    For staff settling ``uncertain`` or ``failed`` recipients on purpose:
    nothing is ever re-sent implicitly. All recipients must belong to one
    message and be in a :data:`RESENDABLE` status. Resending the same
    recipients again (a double click, a second tab) returns the first resend.
    """
    chosen = sorted(recipients, key=lambda r: r.pk)
    if not chosen:
        raise ValueError("resend_recipients() needs at least one recipient.")
    message_ids = {r.message_id for r in chosen}
    if len(message_ids) != 1:
        raise ValueError(
            f"Recipients of {len(message_ids)} different messages given; "
            "resend one message at a time."
        )
    not_resendable = [r.pk for r in chosen if r.status not in RESENDABLE]
    if not_resendable:
        raise ValueError(
            f"Recipients {not_resendable} are not uncertain or failed; only those are resent."
        )
    original = Message.objects.get(pk=message_ids.pop())
    ids = ",".join(str(r.pk) for r in chosen)
    key = "resend:" + hashlib.sha256(f"{original.pk}:{ids}".encode()).hexdigest()
    return send(
        [r.intended_phone or r.phone for r in chosen],
        original.body,
        encoding=original.encoding,
        reply=original.reply,
        reply_days=original.reply_days,
        wap_url=original.wap_url or None,
        priority=original.priority,
        allow_duplicate=allow_duplicate,
        created_by=created_by,
        kind=original.kind,
        idempotency_key=key,
        resend_of=original,
        # The resend is the same message to the project: its records follow it.
        metadata=original.metadata,
        tags=original.tags,
    ).message


def plan_send(
    to: str | Iterable[str],
    body: str,
    *,
    encoding: str | None = None,
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
    reply: bool = False,
    reply_days: int | None = None,
    wap_url: str | None = None,
    priority: str | None = None,
    idempotency_key: str | None = None,
    allow_duplicate: bool = False,
    created_by: Any = None,
    kind: str | None = None,
    resend_of: Message | None = None,
    metadata: dict[str, Any] | None = None,
    tags: Sequence[str] | None = None,
) -> SendPlan:
    """Validate a send and run the guards that need no lock; raise on the first rule broken."""
    now = timezone.now()
    validation.check_flags(reply=reply, allow_duplicate=allow_duplicate)
    numbers = validation.normalise_recipients(to)
    ruled = apply_carrier_rules(
        body, kind=kind, send_at=send_at, expires_at=expires_at, wap_url=wap_url, now=now
    )
    if ruled is not None:
        body, send_at = ruled.body, ruled.send_at
    checked = validation.check_send(
        numbers,
        body,
        encoding=encoding or smsgo_settings.DEFAULT_ENCODING,
        send_at=send_at,
        expires_at=expires_at,
        reply=reply,
        reply_days=reply_days,
        wap_url=wap_url,
        priority=priority,
        kind=kind,
        now=now,
    )
    plan = SendPlan(
        numbers=numbers,
        body=body,
        encoding=checked.encoding,
        segments=checked.segments,
        estimated_points=0,
        send_at=send_at,
        expires_at=expires_at,
        reply=reply,
        reply_days=checked.reply_days,
        wap_url=wap_url or "",
        priority=checked.priority,
        kind=checked.kind,
        idempotency_key=validation.idempotency_key(idempotency_key),
        allow_duplicate=allow_duplicate,
        created_by=created_by,
        resend_of=resend_of,
        metadata=validation.check_metadata(metadata),
        tags=validation.check_tags(tags),
        overrides=validation.override_numbers(),
        rule_notes=ruled.notes if ruled is not None else (),
    )
    if plan.kind == Message.Kind.MARKETING:
        plan.suppressed = suppressed_among(numbers)
    plan.estimated_points = validation.estimate_points(
        len(plan.sendable), body, plan.encoding, wap_url=plan.wap_url, reply=plan.reply
    )
    check_balance(plan.estimated_points)
    return plan


def apply_carrier_rules(
    body: object,
    *,
    kind: str | None,
    send_at: object,
    expires_at: object,
    wap_url: object,
    now: datetime,
) -> carrier_rules.RuledDraft | None:
    """The final text and time of a send by Taiwan's carrier rules (``docs/taiwan.rst``).

    Raises the :class:`~django_smsgo.services.carrier_rules.CarrierRuleError`
    of the first rule broken. Returns None, and applies nothing, when the input
    is malformed in a way validation names better (a text that is empty or not
    text, an unknown kind, a time that is not an aware datetime): a sender tag
    must not turn an empty text into a sendable one.
    """
    if not isinstance(body, str) or not body.strip():
        return None
    if kind is not None and kind not in Message.Kind.values:
        return None
    for moment in (send_at, expires_at):
        if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
            return None
    if wap_url is not None and not isinstance(wap_url, str):
        return None
    draft = carrier_rules.Draft(
        body=body,
        kind=kind or Message.Kind.MARKETING,
        now=now,
        send_at=send_at,  # type: ignore[arg-type]  # checked above
        expires_at=expires_at,  # type: ignore[arg-type]
        wap_url=wap_url or "",
    )
    return carrier_rules.apply_rules(draft)


def body_hash(body: str) -> str:
    """The fingerprint the duplicate guard compares: SHA-256 of the text."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def check_duplicates(numbers: Sequence[str], body: str, *, overridden: bool, now: datetime) -> None:
    """Refuse when ``body`` went to any of ``numbers`` within ``DUPLICATE_WINDOW`` seconds.

    Atomic only inside :func:`store`'s transaction, which holds the lock for the text.
    """
    window = int(smsgo_settings.DUPLICATE_WINDOW or 0)
    if window <= 0 or not numbers:
        return
    column = "intended_phone" if overridden else "phone"
    recent = Recipient.objects.filter(
        message__body_hash=body_hash(body), created_at__gte=now - timedelta(seconds=window)
    ).exclude(
        # Nothing reached the phone: a cancelled recipient, or one the gateway
        # refused before accepting it, may be sent again.
        Q(status=Recipient.Status.CANCELLED)
        | Q(status=Recipient.Status.FAILED, submitted_at__isnull=True)
    )
    if len(numbers) > INSERT_CHUNK and not recent.exists():
        return  # the text went to nobody lately: one query, not one per chunk of numbers
    found: set[str] = set()
    for chunk in chunked(numbers, INSERT_CHUNK):
        found.update(recent.filter(**{f"{column}__in": chunk}).values_list(column, flat=True))
    if found:
        raise DuplicateMessageError([n for n in numbers if n in found], window)


def check_balance(points: int) -> None:
    """Refuse a send whose estimated points exceed the last known balance (if one is known)."""
    snapshot = BalanceSnapshot.objects.newest()
    if snapshot is not None and points > snapshot.points:
        raise InsufficientBalanceError(points, snapshot.points)


def check_ready() -> None:
    """Refuse a send that could never go out: no way to dispatch it, or no usable backend.

    Raises ``SmsgoConfigurationError`` (an ``ImproperlyConfigured``) naming the
    setting and the fix; nothing has been stored.
    """
    dispatching.check_ready()
    get_backend()  # the gateway backend refuses to be built without credentials


def store(plan: SendPlan, *, queue: bool) -> Stored:
    """Store the message and its recipients in one transaction; dispatch on commit.

    Sends of the same text are serialised (:func:`~django_smsgo.services.locks.serialise`),
    so the idempotency key and the duplicate guard are checked against every
    earlier send, committed, and two concurrent callers cannot both pass them.
    """
    if queue:
        check_ready()
    now = timezone.now()
    fingerprint = body_hash(plan.body)
    try:
        with locks.writing():
            if plan.idempotency_key is not None or not plan.allow_duplicate:
                locks.serialise(f"send:{fingerprint}")
            earlier = Message.objects.by_idempotency_key(plan.idempotency_key)
            if earlier is not None:
                return Stored(earlier, created=False)
            if not plan.allow_duplicate:
                check_duplicates(
                    plan.sendable, plan.body, overridden=bool(plan.overrides), now=timezone.now()
                )
            if queue:
                # Under its own lock per kind, so two sends cannot both take the last points.
                carrier_rules.check_budget(plan.kind, plan.estimated_points, now=now)
            message = _create(plan, fingerprint, queue=queue, now=now)
    except IntegrityError:
        # Another caller stored this key first, with another text (so another lock).
        winner = Message.objects.by_idempotency_key(plan.idempotency_key)
        if winner is None:
            raise
        return Stored(winner, created=False)
    return Stored(message, created=True)


def _create(plan: SendPlan, fingerprint: str, *, queue: bool, now: datetime) -> Message:
    message = Message.objects.create(
        body=plan.body,
        body_hash=fingerprint,
        encoding=plan.encoding,
        send_at=plan.send_at,
        expires_at=plan.expires_at,
        reply=plan.reply,
        reply_days=plan.reply_days,
        wap_url=plan.wap_url,
        priority=plan.priority,
        kind=plan.kind,
        status=Message.Status.QUEUED if queue else Message.Status.DRAFT,
        idempotency_key=plan.idempotency_key,
        recipient_count=len(plan.numbers),
        segments=plan.segments,
        estimated_points=plan.estimated_points,
        created_by=plan.created_by,
        queued_at=now if queue else None,
        dispatch_due_at=now if queue else None,
        resend_of=plan.resend_of,
        metadata=plan.metadata,
        tags=plan.tags,
        **_held_reason(plan),
    )
    rows = _recipient_rows(message, plan)
    while batch := list(itertools.islice(rows, INSERT_CHUNK)):
        Recipient.objects.bulk_create(batch)
    if not plan.sendable and queue:
        # Every number suppressed: nothing to send, settled at once.
        transition(message, Message.Status.CANCELLED, reason=Reason.SUPPRESSED)
    elif queue:
        dispatching.dispatch_on_commit(message)
    return message


def _held_reason(plan: SendPlan) -> dict[str, Any]:
    """The message's reason when the quiet hours hold it: shown by the admin and the API."""
    for note in plan.rule_notes:
        if note.code in carrier_rules.QUIET_HOURS_NOTES:
            return {"reason_code": Reason.QUIET_HOURS, "reason_params": note.reason_params()}
    return {}


def _recipient_rows(message: Message, plan: SendPlan) -> Iterator[Recipient]:
    overrides = itertools.cycle(plan.overrides) if plan.overrides else None
    for number in plan.numbers:
        suppressed = number in plan.suppressed
        yield Recipient(
            message=message,
            phone=next(overrides) if overrides is not None else number,
            intended_phone=number if overrides is not None else "",
            status=Recipient.Status.CANCELLED if suppressed else Recipient.Status.QUEUED,
            reason_code=Reason.SUPPRESSED if suppressed else "",
        )

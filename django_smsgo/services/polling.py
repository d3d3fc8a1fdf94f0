"""Status polling: ask the gateway about recipients no report has settled yet.

Polling and Phase-Two callbacks share one settling rule, the table
:data:`~django_smsgo.services.states.recipient.REPORT_RULES`, so final states
stay terminal whichever source comes first. An answer that repeats
what is known is not stored again (one ``DeliveryReport`` per change), and a
recipient still not final after ``POLL_MAX_AGE`` seconds is given up on.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q
from django.utils import timezone

from django_smsgo.backends import BaseBackend, get_backend
from django_smsgo.client import DeliveryStatus
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import GatewayError, TransportError
from django_smsgo.models import AWAITING_REPORT, DeliveryReport, Message, Recipient
from django_smsgo.services import db_threads
from django_smsgo.services.reports import announce
from django_smsgo.services.states import observation_statement
from django_smsgo.services.states import recipient as recipient_state
from django_smsgo.services.states.message import settle
from django_smsgo.services.states.recipient import Observation
from django_smsgo.signals import delivery_report_received

logger = logging.getLogger(__name__)

STATUS_LENGTH = DeliveryReport._meta.get_field("statusstr").max_length or 32
#: Answers whose changes are written together (one statement on PostgreSQL).
ANSWERS_PER_WRITE = 10
#: Writes whose pairs are read by one query.
WRITES_PER_READ = 10


@dataclass
class PollResult:
    """What one polling run did."""

    asked: int = 0
    requests: int = 0
    changed: int = 0
    given_up: int = 0
    error: str = ""


@dataclass(frozen=True)
class _Pending:
    recipient_id: int
    batch_id: int
    msgid: str
    phone: str
    known: str
    uncertain: bool


def poll_delivery_status(
    min_age: float | None = None,
    *,
    message_ids: Iterable[int] | None = None,
    backend: BaseBackend | None = None,
) -> PollResult:
    """Ask ``queryBulk.asp`` about every submitted, not yet final recipient.

    ``message_ids`` limits the run to the recipients of those messages (the
    admin's "refresh" action asks only about the selected ones).

    Only recipients submitted at least ``min_age`` seconds ago are asked
    (default ``POLL_MIN_AGE``; ``0`` asks about all of them), in requests of
    ``POLL_BATCH_SIZE`` pairs, each pair once. Whatever shape the answer has
    (a row per pair, a row per msgid occurrence, repeats, rows for numbers not
    asked about), each pair is taken once, and only when it tells something
    new; the changes of every :data:`ANSWERS_PER_WRITE` answers are written
    together (one statement on PostgreSQL, one transaction elsewhere), and
    whatever was read before an error is written too. The next answers are
    asked from a thread of its own while the last ones are written:
    ``backend.query_bulk`` must not rely on the calling thread (its database
    connection, thread-locals); it is never called twice at once. On
    PostgreSQL, outside a transaction, ``POLL_WRITERS`` writes run at once,
    each on a database connection of its own (:func:`_stored`).
    Recipients older than ``POLL_MAX_AGE`` seconds are marked failed first. A
    gateway or transport error ends the run (it is reported in
    ``PollResult.error``; no request follows it): the next run asks again.
    """
    result = PollResult()
    now = timezone.now()
    result.given_up = give_up_stale(now)
    age = smsgo_settings.POLL_MIN_AGE if min_age is None else min_age
    size = max(1, int(smsgo_settings.POLL_BATCH_SIZE))
    backend = backend or get_backend()
    touched: set[int] = set()
    only = None if message_ids is None else list(message_ids)
    groups = _pending_groups(now - timedelta(seconds=float(age)), now, size, only)
    for asked, stored in _stored(_ask(backend, groups)):
        result.requests += asked.requests
        result.asked += asked.asked
        _tally(stored, result, touched)
        result.error = asked.error
    for message in Message.objects.filter(pk__in=touched):
        settle(message)
    return result


@dataclass
class _Asked:
    """What the requests of one group of chunks told."""

    requests: int = 0
    asked: int = 0
    observations: list[Observation] = field(default_factory=list)
    error: str = ""


def _ask(backend: BaseBackend, groups: Iterator[list[list[_Pending]]]) -> Iterator[_Asked]:
    """Each group's news, in order; the next group is asked while the caller writes this one.

    The requests go out from one thread of their own, a group after the other,
    so the gateway's answers and the database's work overlap; that thread
    touches no database. A gateway or transport error ends the asking: no
    request follows it, and the group it ended comes with what was read before.
    """
    stopped = threading.Event()

    def ask(group: list[list[_Pending]]) -> _Asked:
        asked = _Asked()
        for chunk in group:
            if stopped.is_set():
                break
            try:
                answers = backend.query_bulk([(p.msgid, p.phone) for p in chunk])
            except (GatewayError, TransportError) as exc:
                logger.warning("Status polling stopped: %s", exc)
                asked.error = str(exc)
                stopped.set()
                break
            asked.requests += 1
            asked.asked += len(chunk)
            asked.observations += news(chunk, answers)
        return asked

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsgo-poll") as asking:
        ahead: deque[Future[_Asked]] = deque()
        try:
            for group in groups:
                ahead.append(asking.submit(ask, group))
                if len(ahead) > 1:
                    done = ahead.popleft().result()
                    yield done
                    if done.error:
                        return
            while ahead:
                done = ahead.popleft().result()
                yield done
                if done.error:
                    return
        finally:
            stopped.set()  # no more requests once the caller is done (an error, a failed write)


@dataclass
class _Stored:
    """What one write stored: the statement's rows, and what it left to the general path."""

    logged: list[observation_statement.Logged]
    left: list[Observation]


def _stored(asked_groups: Iterator[_Asked]) -> Iterator[tuple[_Asked, _Stored]]:
    """Each group's answers with what their write stored, in order.

    On PostgreSQL, outside a transaction, up to ``POLL_WRITERS`` writes run at
    once on connections of their own: the database's work per answer is most
    of a run, and two writes never touch the same recipient (each pair is
    asked once). Inside the caller's transaction, or with one writer, they run
    here, one after the other. What the statement leaves is written by
    :func:`_tally`, here.
    """
    writers = max(1, int(smsgo_settings.POLL_WRITERS))
    if (
        writers == 1
        or not observation_statement.supports(DEFAULT_DB_ALIAS)
        or not db_threads.can_hand_over(DEFAULT_DB_ALIAS)
    ):
        for asked in asked_groups:
            yield asked, _store(asked.observations)
        return
    with db_threads.DatabaseThreads(writers, name="smsgo-poll-write") as threads:
        writing: deque[tuple[_Asked, Future[_Stored]]] = deque()
        for asked in asked_groups:
            writing.append((asked, threads.submit(_store, asked.observations)))
            if len(writing) == writers:
                done, write = writing.popleft()
                yield done, write.result()
        while writing:
            done, write = writing.popleft()
            yield done, write.result()


def _store(observed: list[Observation]) -> _Stored:
    """Write ``observed`` by the one statement where it runs; the rest is left."""
    if not observation_statement.supports(DEFAULT_DB_ALIAS):
        return _Stored([], observed)
    logged, left = observation_statement.record(
        observed, alias=DEFAULT_DB_ALIAS, source=DeliveryReport.Source.POLL, now=timezone.now()
    )
    return _Stored(logged, left)


def _tally(stored: _Stored, result: PollResult, touched: set[int]) -> None:
    """Count and announce what a write stored; write what it left by the general path."""
    for entry in stored.logged:
        _count(entry.outcome, entry.message_id, entry.observation, result, touched)
    _announce_stored(
        [e.report_id for e in stored.logged if e.outcome == DeliveryReport.Outcome.APPLIED]
    )
    reports = recipient_state.apply_observations(
        stored.left, source=DeliveryReport.Source.POLL, now=timezone.now()
    )
    for report in reports:
        _count(report.outcome, report.recipient.message_id, report, result, touched)  # type: ignore[union-attr]
        if report.outcome == DeliveryReport.Outcome.APPLIED:
            announce(report)


def _count(
    outcome: str,
    message_id: int,
    what: Observation | DeliveryReport,
    result: PollResult,
    touched: set[int],
) -> None:
    """Count an applied observation (its message is settled at the end); log a conflict."""
    if outcome == DeliveryReport.Outcome.APPLIED:
        result.changed += 1
        touched.add(message_id)
    elif outcome == DeliveryReport.Outcome.CONFLICT:
        logger.warning(
            "Conflicting final state for msgid %s number %s: %s; the first one stays.",
            what.msgid,
            what.phone,
            what.statusstr,
        )


def _announce_stored(report_ids: list[int]) -> None:
    """Send ``delivery_report_received`` for stored reports, read back only if anyone listens."""
    if not report_ids or not delivery_report_received.has_listeners(DeliveryReport):
        return
    stored = DeliveryReport.objects.select_related("recipient__message").filter(pk__in=report_ids)
    for report in stored.order_by("pk"):
        announce(report)


def news(chunk: list[_Pending], answers: Iterable[DeliveryStatus]) -> list[Observation]:
    """One observation per asked pair whose answer tells something new.

    Rows for pairs not asked about are ignored, as are a pair's repeats after
    its first row (a final state wins over a passing one) and rows the gateway
    refused (a negative ``statuscode``: there is no state in them).
    """
    by_pair = {(p.msgid, p.phone): p for p in chunk}
    first: dict[tuple[str, str], DeliveryStatus] = {}
    for answer in answers:
        pending = by_pair.get((str(answer.msgid), answer.number)) or _match(chunk, answer)
        if pending is None:
            logger.info("Query answer for unknown pair %s/%s ignored.", answer.msgid, answer.number)
            continue
        if answer.statuscode is not None and answer.statuscode < 0:
            continue
        pair = (pending.msgid, pending.phone)
        if pair not in first or (answer.is_final and not first[pair].is_final):
            first[pair] = answer
    observations = []
    for pair, answer in first.items():
        pending = by_pair[pair]
        state = recipient_state.normalise_state(answer.statusstr)
        if state == recipient_state.normalise_state(pending.known) and not pending.uncertain:
            continue  # nothing new: no report row per unchanged poll
        observations.append(
            Observation(
                recipient_id=pending.recipient_id,
                batch_id=pending.batch_id,
                msgid=pending.msgid,
                phone=pending.phone,
                statuscode=answer.statuscode,
                statusstr=answer.statusstr.strip()[:STATUS_LENGTH],
                raw=dict(answer.raw) if answer.raw else {},
            )
        )
    return observations


def _match(chunk: list[_Pending], answer: DeliveryStatus) -> _Pending | None:
    """Find the pair of an answer whose number is spelled differently (e.g. +886…)."""
    number = str(answer.number or "")
    msgid = str(answer.msgid or "")
    tail = number[-9:]
    found = [p for p in chunk if p.phone[-9:] == tail and (not msgid or p.msgid == msgid)]
    return found[0] if len(found) == 1 else None


def _pending_groups(
    submitted_before: datetime, now: datetime, size: int, message_ids: list[int] | None
) -> Iterator[list[list[_Pending]]]:
    """Recipients to ask about, in chunks of ``size`` grouped by write, by primary key.

    Never all in memory: one query reads the pairs of :data:`WRITES_PER_READ` writes.
    """
    base = (
        Recipient.objects.filter(
            status__in=AWAITING_REPORT,
            submitted_at__lte=submitted_before,
            batch__isnull=False,
        )
        .exclude(batch__msgid="")
        # A scheduled SMS has nothing to tell before its time.
        .exclude(message__send_at__gt=now)
        .order_by("pk")
    )
    if message_ids is not None:
        base = base.filter(message_id__in=message_ids)
    per_group = size * ANSWERS_PER_WRITE
    per_read = per_group * WRITES_PER_READ
    last = 0
    while True:
        # Each query reads every pending recipient, whatever its limit: few large ones.
        rows = list(
            base.filter(pk__gt=last).values_list(
                "pk", "batch_id", "batch__msgid", "phone", "gateway_status", "status"
            )[:per_read]
        )
        if not rows:
            return
        last = rows[-1][0]
        pending = [
            _Pending(pk, bid, msgid, phone, known, status == Recipient.Status.UNCERTAIN)
            for pk, bid, msgid, phone, known, status in rows
        ]
        for start in range(0, len(pending), per_group):
            group = pending[start : start + per_group]
            yield [group[at : at + size] for at in range(0, len(group), size)]
        if len(rows) < per_read:
            return  # that was the rest


def give_up_stale(now: datetime | None = None) -> int:
    """Fail recipients still not final ``POLL_MAX_AGE`` seconds after they were due.

    Due is the later of submission and ``send_at``. Returns how many gave up.
    """
    now = now or timezone.now()
    max_age = int(smsgo_settings.POLL_MAX_AGE)
    cutoff = now - timedelta(seconds=max_age)
    stale = Recipient.objects.filter(
        status=Recipient.Status.SUBMITTED, submitted_at__lt=cutoff
    ).filter(Q(message__send_at__isnull=True) | Q(message__send_at__lt=cutoff))
    message_ids = set(stale.values_list("message_id", flat=True).distinct())
    count = recipient_state.give_up(
        Recipient.objects.filter(pk__in=stale.values("pk")), seconds=max_age, now=now
    )
    for message in Message.objects.filter(pk__in=message_ids):
        settle(message)
    return count

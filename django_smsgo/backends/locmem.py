"""Keeps SMS in ``django_smsgo.outbox`` instead of sending them, like Django's ``mail.outbox``.

For a project's own tests: nothing leaves the process, and each number gets a
simulated delivery state by the rule in :mod:`django_smsgo.outcomes`, which
dispatch records as a delivery report (source ``simulated``) right after the
send, so code that reacts to ``delivery_report_received`` can be tested too.
Scheduled sends get no report until a test calls
:func:`django_smsgo.services.outbox.deliver_due`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from django_smsgo.backends.base import BaseBackend, SendRequest
from django_smsgo.backends.simulated import (
    NOT_FINAL,
    SCHEDULED,
    fake_msgid,
    outcome_for,
    simulated_status,
)
from django_smsgo.client import CancelResult, DeliveryStatus, SendResult
from django_smsgo.client.statuses import is_final
from django_smsgo.client.text import count_segments

#: The state of a number whose scheduled send was cancelled (table 2's word for it).
CANCELLED = "DELETED"


@dataclass
class OutboxMessage:
    """One send request as the locmem backend received it."""

    msgid: str
    numbers: tuple[str, ...]
    body: str
    encoding: str
    dlvtime: datetime | None = None
    wapurl: str | None = None
    replyurl: str | None = None
    replydays: int | None = None
    response: str | None = None
    batch_id: int | None = None
    message_id: int | None = None
    cancelled: bool = False
    states: dict[str, str] = field(default_factory=dict)

    @property
    def due(self) -> bool:
        """Sent at once, or its schedule has come."""
        return self.dlvtime is None or self.dlvtime <= timezone.now()


#: Every send request the backend received, oldest first; also ``django_smsgo.outbox``.
outbox: list[OutboxMessage] = []


class LocmemBackend(BaseBackend):
    """Appends every send request to ``django_smsgo.outbox`` and simulates its delivery."""

    balance_points = 10**9

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def send(self, request: SendRequest) -> SendResult:
        sent = OutboxMessage(
            msgid=fake_msgid(),
            numbers=tuple(request.numbers),
            body=request.body,
            encoding=request.encoding,
            dlvtime=request.dlvtime,
            wapurl=request.wapurl,
            replyurl=request.replyurl,
            replydays=request.replydays,
            response=request.response,
            batch_id=request.batch_id,
            message_id=request.message_id,
        )
        sent.states = dict.fromkeys(sent.numbers, SCHEDULED)
        if sent.due:
            deliver(sent)
        with self._lock:
            outbox.append(sent)
        return SendResult(
            msgid=sent.msgid,
            statuscode=0,
            statusstr="OK",
            points=count_segments(request.body, request.encoding) * len(request.numbers),
            numbers=sent.numbers,
            encoding=request.encoding,
            api_url="locmem:",
        )

    def reports_after_send(self, msgid: str) -> list[DeliveryStatus]:
        sent = find(msgid)
        if sent is None or not sent.due:
            return []
        return final_statuses(sent)

    def query_bulk(self, pairs: Iterable[tuple[str, str]]) -> list[DeliveryStatus]:
        answers = []
        for msgid, number in pairs:
            sent = find(msgid)
            state = sent.states.get(number, "UNKNOWN") if sent else "UNKNOWN"
            answers.append(simulated_status(msgid, number, state))
        return answers

    def balance(self) -> int:
        return self.balance_points

    def cancel(self, msgid: str) -> CancelResult:
        sent = find(msgid)
        if sent is None or sent.due:
            return CancelResult(
                msgid=msgid, statuscode=-1, statusstr="not cancellable", cancelled=False
            )
        sent.cancelled = True
        sent.states = dict.fromkeys(sent.numbers, CANCELLED)
        return CancelResult(msgid=msgid, statuscode=0, statusstr="OK", cancelled=True)


def find(msgid: str) -> OutboxMessage | None:
    """The outbox entry of ``msgid``, or None."""
    return next((sent for sent in outbox if sent.msgid == msgid), None)


def deliver(sent: OutboxMessage) -> None:
    """Give each number of ``sent`` its simulated state (``ENROUTE`` when it never turns final)."""
    for number in sent.numbers:
        sent.states[number] = outcome_for(number) or NOT_FINAL


def final_statuses(sent: OutboxMessage) -> list[DeliveryStatus]:
    """The final states ``sent`` reached, as the gateway would report them."""
    return [
        simulated_status(sent.msgid, number, state)
        for number, state in sent.states.items()
        if is_final(state)
    ]


def due_sends() -> list[OutboxMessage]:
    """Scheduled sends whose time has come and that were not delivered or cancelled yet."""
    return [
        sent
        for sent in list(outbox)
        if not sent.cancelled
        and sent.dlvtime is not None
        and sent.due
        and set(sent.states.values()) == {SCHEDULED}
    ]

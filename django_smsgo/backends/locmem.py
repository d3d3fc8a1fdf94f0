"""Keeps SMS in ``django_smsgo.outbox`` instead of sending them, like Django's ``mail.outbox``.

For a project's own tests: nothing leaves the process, and each number gets a
simulated delivery report (source ``simulated``) by the rule in
:mod:`django_smsgo.backends.simulated`, so code that reacts to
``delivery_report_received`` can be tested too. Scheduled sends get no report
until a test calls :meth:`LocmemBackend.deliver_due`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

import django_smsgo
from django_smsgo.backends.base import BaseBackend, SendRequest
from django_smsgo.backends.simulated import NOT_FINAL, SCHEDULED, fake_msgid, outcome_for
from django_smsgo.client import CancelResult, DeliveryStatus, SendResult
from django_smsgo.client.statuses import is_final
from django_smsgo.client.text import count_segments


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
        with self._lock:
            django_smsgo.outbox.append(sent)
        if sent.dlvtime is None or sent.dlvtime <= timezone.now():
            self._deliver(sent)
        else:
            sent.states = dict.fromkeys(sent.numbers, SCHEDULED)
        return SendResult(
            msgid=sent.msgid,
            statuscode=0,
            statusstr="OK",
            points=count_segments(request.body, request.encoding) * len(request.numbers),
            numbers=sent.numbers,
            encoding=request.encoding,
            api_url="locmem:",
        )

    def deliver_due(self) -> int:
        """Deliver the scheduled sends whose time has come; return how many."""
        now = timezone.now()
        due = [
            sent
            for sent in list(django_smsgo.outbox)
            if not sent.cancelled
            and sent.dlvtime is not None
            and sent.dlvtime <= now
            and set(sent.states.values()) == {SCHEDULED}
        ]
        for sent in due:
            self._deliver(sent)
        return len(due)

    def _deliver(self, sent: OutboxMessage) -> None:
        from django_smsgo.models import DeliveryReport
        from django_smsgo.services.reports import record_observation

        for number in sent.numbers:
            state = outcome_for(number)
            sent.states[number] = state or NOT_FINAL
            if state is None:
                continue
            record_observation(
                msgid=sent.msgid,
                phone=number,
                statuscode=0,
                statusstr=state,
                source=DeliveryReport.Source.SIMULATED,
                raw={"msgid": sent.msgid, "dstaddr": number, "statusstr": state},
                batch_id=sent.batch_id,
            )

    def _find(self, msgid: str) -> OutboxMessage | None:
        for sent in django_smsgo.outbox:
            if sent.msgid == msgid:
                return sent
        return None

    def query_bulk(self, pairs: Iterable[tuple[str, str]]) -> list[DeliveryStatus]:
        answers = []
        for msgid, number in pairs:
            sent = self._find(msgid)
            state = sent.states.get(number, "UNKNOWN") if sent else "UNKNOWN"
            answers.append(
                DeliveryStatus(
                    msgid=msgid,
                    number=number,
                    statuscode=0,
                    statusstr=state,
                    is_final=is_final(state),
                    raw={"msgid": msgid, "phone": number, "statusstr": state},
                )
            )
        return answers

    def balance(self) -> int:
        return self.balance_points

    def cancel(self, msgid: str) -> CancelResult:
        sent = self._find(msgid)
        if sent is None or sent.dlvtime is None or sent.dlvtime <= timezone.now():
            return CancelResult(
                msgid=msgid, statuscode=-1, statusstr="not cancellable", cancelled=False
            )
        sent.cancelled = True
        sent.states = dict.fromkeys(sent.numbers, "CANCELLED")
        return CancelResult(msgid=msgid, statuscode=0, statusstr="OK", cancelled=True)

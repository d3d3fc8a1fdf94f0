"""Prints every SMS instead of sending it: for development without an account."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import TextIO

from django_smsgo.backends.base import BaseBackend, SendRequest
from django_smsgo.backends.simulated import fake_msgid, outcome_for, simulated_status
from django_smsgo.client import CancelResult, DeliveryStatus, SendResult
from django_smsgo.client.text import count_segments


class ConsoleBackend(BaseBackend):
    """Writes each send request to ``stream`` (standard output) and answers like the gateway.

    Msgids are fake; queries answer the simulator's outcome rule; the balance
    is unlimited; cancelling always succeeds.
    """

    balance_points = 10**9

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def send(self, request: SendRequest) -> SendResult:
        msgid = fake_msgid()
        when = f" at {request.dlvtime.isoformat()}" if request.dlvtime else ""
        segments = count_segments(request.body, request.encoding)
        lines = [
            f"SMS {msgid} ({request.encoding}, {segments} segment(s){when})",
            f"To: {', '.join(request.numbers)}",
            *(f"Link: {request.wapurl}" for _ in [1] if request.wapurl),
            "",
            request.body,
            "-" * 60,
        ]
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write("\n".join(lines) + "\n")
            stream.flush()
        return SendResult(
            msgid=msgid,
            statuscode=0,
            statusstr="OK",
            points=segments * len(request.numbers),
            numbers=tuple(request.numbers),
            encoding=request.encoding,
            api_url="console:",
        )

    def query_bulk(self, pairs: Iterable[tuple[str, str]]) -> list[DeliveryStatus]:
        answers = []
        for msgid, number in pairs:
            state = outcome_for(number) or "ENROUTE"
            answers.append(simulated_status(msgid, number, state))
        return answers

    def balance(self) -> int:
        return self.balance_points

    def cancel(self, msgid: str) -> CancelResult:
        return CancelResult(msgid=msgid, statuscode=0, statusstr="OK", cancelled=True)

"""The interface every backend implements, and the send request it receives."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django_smsgo.client import CancelResult, DeliveryStatus, SendResult


@dataclass(frozen=True)
class SendRequest:
    """One gateway send request: at most 50 numbers of one message.

    ``batch_id`` and ``message_id`` let test backends simulate delivery
    reports for the right batch; the gateway backend ignores them.
    """

    numbers: Sequence[str]
    body: str
    encoding: str
    dlvtime: datetime | None = None
    wapurl: str | None = None
    replyurl: str | None = None
    replydays: int | None = None
    response: str | None = None
    batch_id: int | None = None
    message_id: int | None = None


class PendingAnswer(Protocol):
    """A send request on its way (:meth:`BaseBackend.start_send`)."""

    def fileno(self) -> int:
        """A socket that becomes readable when the answer comes; -1 when it is there already."""

    def result(self) -> SendResult:
        """The gateway's answer (waiting for it), or the error that stands for it."""


class Answered:
    """A send that was carried out at once: its result, or the error it raised."""

    def __init__(self, send: Callable[[SendRequest], SendResult], request: SendRequest) -> None:
        self._result: SendResult | None = None
        self._error: Exception | None = None
        try:
            self._result = send(request)
        except Exception as exc:
            self._error = exc

    def fileno(self) -> int:
        return -1

    def result(self) -> SendResult:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class BaseBackend:
    """A place SMS can be sent to. Subclasses implement the four gateway operations.

    ``send`` raises the client's exceptions: ``SmsgoValidationError`` (nothing
    sent), ``GatewayError`` (the gateway refused), ``GatewayUnreachableError``
    (surely not sent) or ``UncertainOutcomeError`` (perhaps sent).
    """

    def send(self, request: SendRequest) -> SendResult:
        """Send one request of at most 50 numbers; return the gateway's answer."""
        raise NotImplementedError

    def start_send(self, request: SendRequest) -> PendingAnswer:
        """Write one request and return at once; the answer is read by ``result()``.

        Lets dispatch keep several requests in flight and do its database work
        while they travel. Raises what :meth:`send` raises for a request that
        surely did not leave; everything later is raised by ``result()``. By
        default the request is carried out at once.
        """
        return Answered(self.send, request)

    def query_bulk(self, pairs: Iterable[tuple[str, str]]) -> list[DeliveryStatus]:
        """Ask the status of each (msgid, number) pair.

        Polling calls it from a thread of its own, one call at a time: it must
        not rely on the calling thread (its database connection, thread-locals).
        """
        raise NotImplementedError

    def balance(self) -> int:
        """The account's balance in points."""
        raise NotImplementedError

    def cancel(self, msgid: str) -> CancelResult:
        """Cancel a scheduled send that is not due yet."""
        raise NotImplementedError

    def reports_after_send(self, msgid: str) -> list[DeliveryStatus]:
        """Delivery states known as soon as ``msgid`` was accepted, for dispatch to record.

        The gateway tells them later (Phase Two, queries): none here. Test
        backends simulate delivery at once and return the states they chose.
        """
        return []

    def close(self) -> None:
        """Release connections; the backend must not be used afterwards."""

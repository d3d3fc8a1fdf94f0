"""The interface every backend implements, and the send request it receives."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

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


class BaseBackend:
    """A place SMS can be sent to. Subclasses implement the four gateway operations.

    ``send`` raises the client's exceptions: ``SmsgoValidationError`` (nothing
    sent), ``GatewayError`` (the gateway refused), ``GatewayUnreachableError``
    (surely not sent) or ``UncertainOutcomeError`` (perhaps sent).
    """

    def send(self, request: SendRequest) -> SendResult:
        """Send one request of at most 50 numbers; return the gateway's answer."""
        raise NotImplementedError

    def query_bulk(self, pairs: Iterable[tuple[str, str]]) -> list[DeliveryStatus]:
        """Ask the status of each (msgid, number) pair."""
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

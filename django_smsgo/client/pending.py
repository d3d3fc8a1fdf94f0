"""A send on its way: written to the gateway, its answer still to be read.

:meth:`SmsgoClient.start_send <django_smsgo.client.SmsgoClient.start_send>`
returns a :class:`PendingSend` once the request has been written, so that a
caller can keep several sends in flight on different connections and wait for
their answers with a selector (:meth:`PendingSend.fileno`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django_smsgo.client.outcomes import Outcome
from django_smsgo.client.results import SendResult
from django_smsgo.client.transport import Exchange
from django_smsgo.client.validation import PreparedSend
from django_smsgo.exceptions import AnswerLostError

#: Reads the answer of an exchange (the client's own reading, with its -10 failover).
Complete = Callable[[Exchange, PreparedSend, Outcome | None], Outcome]

logger = logging.getLogger("django_smsgo.client")


class PendingSend:
    """One written send request; :meth:`result` reads its answer.

    ``prepared`` is the request, ``api_url`` the host it was written to (the
    backup when the primary could not be reached). Meant for one owner: do
    not share one ``PendingSend`` between threads.
    """

    __slots__ = ("_complete", "_exchange", "_first", "_outcome", "prepared")

    def __init__(
        self,
        complete: Complete,
        prepared: PreparedSend,
        exchange: Exchange,
        first: Outcome | None = None,
    ) -> None:
        self._complete = complete
        self._exchange = exchange
        self._first = first  # the primary's "not sent" error when this went to the backup
        self._outcome: Outcome | None = None
        self.prepared = prepared

    def __repr__(self) -> str:
        state = "answered" if self._outcome is not None else "waiting"
        return (
            f"<PendingSend {len(self.prepared.numbers)} number(s) on "
            f"{self._exchange.api_url}, {state}>"
        )

    @property
    def api_url(self) -> str:
        """The host the request was written to."""
        return self._exchange.api_url

    def fileno(self) -> int:
        """The connection's socket, for ``selectors``: readable when the answer starts to come.

        Readable does not mean the whole answer is there: :meth:`result` may
        still wait (up to the read timeout) for the rest. -1 once read.
        """
        return self._exchange.fileno()

    def abandon(self) -> None:
        """Close the connection without reading the answer (e.g. at shutdown).

        The request was written: treat it as perhaps sent. :meth:`result`
        then raises :class:`~django_smsgo.exceptions.AnswerLostError`.
        """
        if self._outcome is None:
            self._exchange.abandon()
            error = AnswerLostError(self._exchange.api_url, "the answer was abandoned unread")
            self._outcome = Outcome(error=error)

    def result(self) -> SendResult:
        """Read the answer: the :class:`~django_smsgo.client.SendResult`, or raise.

        Raises a :class:`~django_smsgo.exceptions.GatewayError` for a refusal
        and an :class:`~django_smsgo.exceptions.UncertainOutcomeError` when the
        answer was lost, late, not HTTP 200 or unreadable (perhaps sent: never
        re-sent). A ``-10`` from the primary is sent again to the backup host
        here, as :meth:`SmsgoClient.send` does. Calling it again gives the same
        result (or the same error) without reading anything.
        """
        if self._outcome is None:
            self._outcome = self._complete(self._exchange, self.prepared, self._first)
            value = self._outcome.value
            if isinstance(value, SendResult):
                logger.info(
                    "smsgo took msgid %s for %d number(s) on %s",
                    value.msgid,
                    len(value.numbers),
                    value.api_url,
                )
        outcome = self._outcome
        if outcome.error is not None:
            raise outcome.error
        assert isinstance(outcome.value, SendResult)
        return outcome.value

"""``SmsgoClient``: the five endpoints of the smsgo gateway, with safe failover.

Failover to the backup host happens only where it cannot send an SMS twice:

* send and cancel: when the primary surely did not take the request (the
  connection could not be made) or answered ``-10`` (send fail). A read
  timeout, a broken connection, an HTTP error or an unreadable answer may
  mean the request was carried out: those raise
  :class:`~django_smsgo.exceptions.UncertainOutcomeError` and the backup is
  NOT tried;
* query, bulk query and balance only read: any transport failure or ``-10``
  moves on to the backup host.

:meth:`SmsgoClient.start_send` splits a send in two: it connects and writes
the request (trying the backup when the primary surely did not take it) and
returns a :class:`~django_smsgo.client.pending.PendingSend`, whose ``result()``
reads the answer. Several sends can be in flight at once, one connection each.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

from django_smsgo.client import answers
from django_smsgo.client.answers import AnswerFormatError
from django_smsgo.client.encodings import Encoding
from django_smsgo.client.numbers import Number, NumberInput, chunked, normalize_number
from django_smsgo.client.outcomes import (
    Outcome,
    gateway_refusal,
    match_rows,
    request_refusal,
    status_of,
)
from django_smsgo.client.pending import PendingSend
from django_smsgo.client.redaction import install_redaction
from django_smsgo.client.results import CancelResult, DeliveryStatus, SendResult
from django_smsgo.client.transport import Answer, Credentials, Exchange, Fault, Transport
from django_smsgo.client.validation import PreparedSend, check_msgid, validate_send
from django_smsgo.exceptions import (
    AuthorizationError,
    GatewayError,
    SendFailedError,
    SmsgoConfigurationError,
    TransportError,
    UnparsableAnswerError,
)

logger = logging.getLogger("django_smsgo.client")

PRIMARY_API_URL = "https://www.smsgo.com.tw/sms_gw/"
BACKUP_API_URL = "http://www2.smsgo.com.tw/sms_gw/"

SEND = "sendsms.aspx"
QUERY = "query.asp"
QUERY_BULK = "queryBulk.asp"
BALANCE = "query_point.asp"
CANCEL = "sendsms_cancel.asp"

#: Pairs per queryBulk request; the document states no limit (decision 8).
QUERY_BULK_SIZE = 50

T = TypeVar("T")


def _base_url(name: str, url: str) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise SmsgoConfigurationError(f"{name} must be an http:// or https:// URL, got {url!r}")
    if parts.query or parts.username or parts.password:
        raise SmsgoConfigurationError(
            f"{name} must hold no query string and no credentials (give them to SmsgoClient)"
        )
    return url if url.endswith("/") else url + "/"


class SmsgoClient:
    """A client of the smsgo HTTP API 6.1. Plain Python: no Django needed.

    One keep-alive connection pool per host (at most ``pool_size``
    connections each); thread-safe for concurrent calls. https verifies
    certificates against the system's CAs unless ``ssl_context`` says
    otherwise. Close it with :meth:`close` or use it as a context manager.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        api_url: str = PRIMARY_API_URL,
        backup_api_url: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool_size: int = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not username or not password:
            raise SmsgoConfigurationError("an smsgo username and password are both needed")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise SmsgoConfigurationError("connect_timeout and read_timeout must be positive")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise SmsgoConfigurationError(
                f"pool_size must be a whole number >= 1, got {pool_size!r}"
            )
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise SmsgoConfigurationError("ssl_context must be an ssl.SSLContext")
        self._credentials = Credentials(username, password)
        install_redaction(password)
        self.api_url = _base_url("api_url", api_url)
        backup = _base_url("backup_api_url", backup_api_url) if backup_api_url else None
        self.backup_api_url = backup if backup != self.api_url else None
        self.timeout = (float(connect_timeout), float(read_timeout))
        self._transport = Transport(
            self._credentials,
            connect_timeout=self.timeout[0],
            read_timeout=self.timeout[1],
            pool_size=pool_size,
            ssl_context=ssl_context,
        )

    def __repr__(self) -> str:
        return (
            f"SmsgoClient(username={self._credentials.username!r}, api_url={self.api_url!r}, "
            f"backup_api_url={self.backup_api_url!r})"
        )

    @property
    def username(self) -> str:
        return self._credentials.username

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the idle pooled connections (those in use close once their answer is read)."""
        self._transport.close()

    def __enter__(self) -> SmsgoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ endpoints

    def validate_send(
        self,
        numbers: NumberInput,
        body: str,
        *,
        encoding: Encoding | str | None = None,
        dlvtime: datetime | None = None,
        wapurl: str | None = None,
        replyurl: str | None = None,
        replydays: int | None = None,
        response: str | None = None,
    ) -> PreparedSend:
        """The request :meth:`send` would send, after every check; nothing is sent."""
        return validate_send(
            numbers,
            body,
            encoding=encoding,
            dlvtime=dlvtime,
            wapurl=wapurl,
            replyurl=replyurl,
            replydays=replydays,
            response=response,
        )

    def send(
        self,
        numbers: NumberInput,
        body: str,
        *,
        encoding: Encoding | str | None = None,
        dlvtime: datetime | None = None,
        wapurl: str | None = None,
        replyurl: str | None = None,
        replydays: int | None = None,
        response: str | None = None,
    ) -> SendResult:
        """Send ``body`` to at most 50 ``numbers`` in one request (``sendsms.aspx``).

        Raises a :class:`~django_smsgo.exceptions.SmsgoValidationError` before
        any request when a value breaks a rule; a
        :class:`~django_smsgo.exceptions.GatewayError` when the gateway refuses;
        :class:`~django_smsgo.exceptions.GatewayUnreachableError` when no host
        could be reached (surely not sent);
        :class:`~django_smsgo.exceptions.UncertainOutcomeError` when it may
        have been sent.
        """
        prepared = self.validate_send(
            numbers,
            body,
            encoding=encoding,
            dlvtime=dlvtime,
            wapurl=wapurl,
            replyurl=replyurl,
            replydays=replydays,
            response=response,
        )
        return self.send_prepared(prepared)

    def send_prepared(self, prepared: PreparedSend) -> SendResult:
        """Send a request :meth:`validate_send` returned (:meth:`start_send`, then its result)."""
        return self.start_send(prepared).result()

    def start_send(self, prepared: PreparedSend) -> PendingSend:
        """Connect and write a send request; the answer is read by ``result()`` of the return.

        Takes an idle keep-alive connection to the primary host or opens one
        (at most ``pool_size`` per host; waits up to ``connect_timeout`` for
        one to come free). Raises
        :class:`~django_smsgo.exceptions.GatewayUnreachableError` only when the
        request surely did not leave, after trying the backup host when one
        is configured; once a byte may have left it returns, and every later
        failure is raised by :meth:`PendingSend.result`.
        """
        if not isinstance(prepared, PreparedSend):
            raise TypeError("start_send() takes the PreparedSend that validate_send() returned")
        params = prepared.params()
        started = self._transport.start(self.api_url, SEND, params)
        if isinstance(started, Exchange):
            return PendingSend(self._complete_send, prepared, started)
        first = Outcome(error=started.error(), failover=started.host_failed)
        if self.backup_api_url and first.failover:
            self._log_failover(SEND, self.api_url, first)
            second = self._transport.start(self.backup_api_url, SEND, params)
            if isinstance(second, Exchange):
                return PendingSend(self._complete_send, prepared, second, first)
        assert first.error is not None
        raise first.error

    def _complete_send(
        self, exchange: Exchange, prepared: PreparedSend, first: Outcome | None
    ) -> Outcome:
        """Read a send's answer (:meth:`PendingSend.result`), with the -10 failover."""

        def read(answer: Answer) -> Outcome:
            parsed = answers.parse_send(answer.body)
            if parsed.statuscode < 0:
                return gateway_refusal(parsed.statuscode, parsed.statusstr, answer.api_url)
            return Outcome(
                SendResult(
                    msgid=parsed.msgid,
                    statuscode=parsed.statuscode,
                    statusstr=parsed.statusstr,
                    points=parsed.points,
                    numbers=prepared.numbers,
                    encoding=prepared.encoding.value,
                    api_url=answer.api_url,
                )
            )

        outcome = self._finish(exchange, read)
        if first is not None:
            # Already on the backup: when it did not take the request either,
            # the primary's error is the one to report.
            return first if outcome.error is not None and outcome.failover else outcome
        return self._failover(outcome, SEND, prepared.params(), read, read_only=False)

    def query(self, msgid: str, number: Number) -> DeliveryStatus:
        """The state of one receiver (``query.asp``)."""
        msgid = check_msgid(msgid)
        number = normalize_number(number)

        def read(answer: Answer) -> Outcome:
            rows = answers.parse_statuses(answer.body)
            refusal = request_refusal(rows, answer.api_url)
            if refusal is not None:
                return refusal
            row = next((row for row in rows if row.phone == number), rows[0])
            return Outcome(status_of(row, msgid, number))

        result = self._call(QUERY, {"msgid": msgid, "dstaddr": number}, read, read_only=True)
        assert isinstance(result, DeliveryStatus)
        return result

    def query_bulk(
        self, pairs: Iterable[tuple[str, Number]], *, batch_size: int = QUERY_BULK_SIZE
    ) -> list[DeliveryStatus]:
        """The state of each (msgid, number) pair (``queryBulk.asp``, ``batch_size`` a request)."""
        checked = [(check_msgid(msgid), normalize_number(number)) for msgid, number in pairs]
        statuses: list[DeliveryStatus] = []
        for batch in chunked(checked, batch_size):
            statuses.extend(self._query_batch(batch))
        return statuses

    def _query_batch(self, batch: list[tuple[str, str]]) -> list[DeliveryStatus]:
        params = {
            "msgid": ",".join(msgid for msgid, _ in batch),
            "dstaddr": ",".join(number for _, number in batch),
        }

        def read(answer: Answer) -> Outcome:
            rows = answers.parse_statuses(answer.body)
            refusal = request_refusal(rows, answer.api_url)
            if refusal is not None:
                return refusal
            return Outcome(match_rows(rows, batch))

        result = self._call(QUERY_BULK, params, read, read_only=True)
        assert isinstance(result, list)
        return result

    def balance(self) -> int:
        """The account's balance in points (``query_point.asp``, asked as JSON)."""

        def read(answer: Answer) -> Outcome:
            status, points = answers.parse_balance(answer.body)
            if points is None:
                return gateway_refusal(status.statuscode, status.statusstr, answer.api_url)
            return Outcome(points)

        result = self._call(BALANCE, {"rtype": "JSON"}, read, read_only=True)
        assert isinstance(result, int)
        return result

    def cancel(self, msgid: str) -> CancelResult:
        """Cancel a scheduled send that is not due yet (``sendsms_cancel.asp``).

        A refusal (already sent, unknown msgid…) is a result with
        ``cancelled=False``, not an exception; a wrong password raises
        :class:`~django_smsgo.exceptions.AuthorizationError`.
        """
        msgid = check_msgid(msgid)

        def read(answer: Answer) -> Outcome:
            status = answers.parse_cancel(answer.body)
            code = status.statuscode
            if code == SendFailedError.code:
                return gateway_refusal(code, status.statusstr, answer.api_url)
            if code == AuthorizationError.code:
                return Outcome(error=GatewayError.from_code(code, status.statusstr))
            return Outcome(
                CancelResult(
                    msgid=status.get("msgid") if code == 0 and status.get("msgid") else msgid,
                    statuscode=code,
                    statusstr=status.statusstr,
                    cancelled=code == 0,
                )
            )

        try:
            result = self._call(CANCEL, {"msgid": msgid}, read, read_only=False)
        except SendFailedError as refusal:
            # Both hosts said -10: the cancel was not carried out.
            text = refusal.gateway_text
        else:
            assert isinstance(result, CancelResult)
            return result
        return CancelResult(msgid=msgid, statuscode=-10, statusstr=text, cancelled=False)

    # ------------------------------------------------------------------ one call, with failover

    def _attempt(
        self,
        api_url: str,
        endpoint: str,
        params: dict[str, str],
        read: Callable[[Answer], Outcome],
    ) -> Outcome:
        started = self._transport.start(api_url, endpoint, params)
        if isinstance(started, Fault):  # surely not sent
            return Outcome(error=started.error(), failover=started.host_failed)
        return self._finish(started, read)

    def _finish(self, exchange: Exchange, read: Callable[[Answer], Outcome]) -> Outcome:
        answer = exchange.finish()
        if isinstance(answer, Fault):
            return Outcome(error=answer.error(), failover=not answer.reached)
        try:
            return read(answer)
        except AnswerFormatError as error:
            reason = str(error)
        return Outcome(
            error=UnparsableAnswerError(answer.api_url, reason, excerpt=answer.excerpt),
            failover=False,
        )

    def _failover(
        self,
        first: Outcome,
        endpoint: str,
        params: dict[str, str],
        read: Callable[[Answer], Outcome],
        *,
        read_only: bool,
    ) -> Outcome:
        """``first`` (the primary's outcome), or the backup's when the rules allow trying it."""
        if first.error is None or not self.backup_api_url:
            return first
        if not (first.failover or (read_only and isinstance(first.error, TransportError))):
            return first
        self._log_failover(endpoint, self.api_url, first)
        second = self._attempt(self.backup_api_url, endpoint, params, read)
        # When the backup surely did not take the request either, the primary's
        # error says more (e.g. its -10 rather than "unreachable").
        if second.error is not None and second.failover:
            return first
        return second

    def _log_failover(self, endpoint: str, api_url: str, outcome: Outcome) -> None:
        logger.warning(
            "%s on %s failed (%s); trying the backup host %s",
            endpoint,
            api_url,
            type(outcome.error).__name__,
            self.backup_api_url,
        )

    def _call(
        self,
        endpoint: str,
        params: dict[str, str],
        read: Callable[[Answer], Outcome],
        *,
        read_only: bool,
    ) -> object:
        first = self._attempt(self.api_url, endpoint, params, read)
        outcome = self._failover(first, endpoint, params, read, read_only=read_only)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

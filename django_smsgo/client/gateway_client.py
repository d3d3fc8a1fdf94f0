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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

from django_smsgo.client import answers
from django_smsgo.client.answers import AnswerFormatError, StatusRow
from django_smsgo.client.encodings import Encoding
from django_smsgo.client.numbers import chunked, normalize_number
from django_smsgo.client.redaction import install_redaction
from django_smsgo.client.results import CancelResult, DeliveryStatus, SendResult
from django_smsgo.client.statuses import is_final
from django_smsgo.client.transport import Answer, Credentials, Fault, build_session, exchange
from django_smsgo.client.validation import PreparedSend, check_msgid, validate_send
from django_smsgo.exceptions import (
    AuthorizationError,
    GatewayError,
    SendFailedError,
    SmsgoConfigurationError,
    SmsgoError,
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


class _Outcome:
    """What one attempt gave: a value, or an error to raise (outside any except block)."""

    __slots__ = ("error", "failover", "value")

    def __init__(
        self, value: object = None, error: SmsgoError | None = None, failover: bool = False
    ) -> None:
        self.value = value
        self.error = error
        self.failover = failover


class SmsgoClient:
    """A client of the smsgo HTTP API 6.1. Plain Python: no Django needed.

    One pooled keep-alive session per client; thread-safe for concurrent
    calls. Close it with :meth:`close` or use it as a context manager.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        api_url: str = PRIMARY_API_URL,
        backup_api_url: str | None = BACKUP_API_URL,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool_size: int = 10,
    ) -> None:
        if not username or not password:
            raise SmsgoConfigurationError("an smsgo username and password are both needed")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise SmsgoConfigurationError("connect_timeout and read_timeout must be positive")
        self._credentials = Credentials(username, password)
        install_redaction(password)
        self.api_url = _base_url("api_url", api_url)
        backup = _base_url("backup_api_url", backup_api_url) if backup_api_url else None
        self.backup_api_url = backup if backup != self.api_url else None
        self.timeout = (float(connect_timeout), float(read_timeout))
        self._session = build_session(pool_size)

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
        """Close the pooled connections; the client must not be used afterwards."""
        self._session.close()

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
        numbers: str | Iterable[str],
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
        numbers: str | Iterable[str],
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
        """Send a request :meth:`validate_send` returned."""

        def read(answer: Answer) -> _Outcome:
            parsed = answers.parse_send(answer.body)
            if parsed.statuscode < 0:
                return _gateway_refusal(parsed.statuscode, parsed.statusstr, answer.api_url)
            return _Outcome(
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

        result = self._call(SEND, prepared.params(), read, read_only=False)
        assert isinstance(result, SendResult)
        logger.info(
            "smsgo took msgid %s for %d number(s) on %s",
            result.msgid,
            len(result.numbers),
            result.api_url,
        )
        return result

    def query(self, msgid: str, number: str) -> DeliveryStatus:
        """The state of one receiver (``query.asp``)."""
        msgid = check_msgid(msgid)
        number = normalize_number(number)

        def read(answer: Answer) -> _Outcome:
            rows = answers.parse_statuses(answer.body)
            refusal = _request_refusal(rows, answer.api_url)
            if refusal is not None:
                return refusal
            row = next((row for row in rows if row.phone == number), rows[0])
            return _Outcome(_status(row, msgid, number))

        result = self._call(QUERY, {"msgid": msgid, "dstaddr": number}, read, read_only=True)
        assert isinstance(result, DeliveryStatus)
        return result

    def query_bulk(
        self, pairs: Iterable[tuple[str, str]], *, batch_size: int = QUERY_BULK_SIZE
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

        def read(answer: Answer) -> _Outcome:
            rows = answers.parse_statuses(answer.body)
            refusal = _request_refusal(rows, answer.api_url)
            if refusal is not None:
                return refusal
            return _Outcome(_match_rows(rows, batch))

        result = self._call(QUERY_BULK, params, read, read_only=True)
        assert isinstance(result, list)
        return result

    def balance(self) -> int:
        """The account's balance in points (``query_point.asp``, asked as JSON)."""

        def read(answer: Answer) -> _Outcome:
            status, points = answers.parse_balance(answer.body)
            if points is None:
                return _gateway_refusal(status.statuscode, status.statusstr, answer.api_url)
            return _Outcome(points)

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

        def read(answer: Answer) -> _Outcome:
            status = answers.parse_cancel(answer.body)
            code = status.statuscode
            if code == SendFailedError.code:
                return _gateway_refusal(code, status.statusstr, answer.api_url)
            if code == AuthorizationError.code:
                return _Outcome(error=GatewayError.from_code(code, status.statusstr))
            return _Outcome(
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

    def _hosts(self) -> list[str]:
        return [self.api_url] + ([self.backup_api_url] if self.backup_api_url else [])

    def _attempt(
        self,
        api_url: str,
        endpoint: str,
        params: dict[str, str],
        read: Callable[[Answer], _Outcome],
    ) -> _Outcome:
        answer = exchange(self._session, api_url, endpoint, params, self._credentials, self.timeout)
        if isinstance(answer, Fault):
            return _Outcome(error=answer.error(), failover=not answer.reached)
        try:
            return read(answer)
        except AnswerFormatError as error:
            reason = str(error)
        return _Outcome(
            error=UnparsableAnswerError(api_url, reason, excerpt=answer.excerpt), failover=False
        )

    def _call(
        self,
        endpoint: str,
        params: dict[str, str],
        read: Callable[[Answer], _Outcome],
        *,
        read_only: bool,
    ) -> object:
        first: _Outcome | None = None
        outcome = _Outcome()
        for api_url in self._hosts():
            outcome = self._attempt(api_url, endpoint, params, read)
            if outcome.error is None:
                return outcome.value
            failover = outcome.failover or (read_only and _is_transport(outcome.error))
            if first is None:
                first = outcome
                if failover and self.backup_api_url:
                    logger.warning(
                        "%s on %s failed (%s); trying the backup host %s",
                        endpoint,
                        api_url,
                        type(outcome.error).__name__,
                        self.backup_api_url,
                    )
                    continue
            break
        # When the backup surely did not take the request either, the primary's
        # error says more (e.g. its -10 rather than "unreachable").
        if first is not None and outcome is not first and outcome.failover:
            outcome = first
        assert outcome.error is not None
        raise outcome.error


def _is_transport(error: SmsgoError) -> bool:
    return isinstance(error, TransportError)


def _gateway_refusal(code: int, text: str, api_url: str) -> _Outcome:
    error = GatewayError.from_code(code, text, api_url=api_url)
    # -10 "send fail" is the gateway's own word that nothing was sent.
    return _Outcome(error=error, failover=isinstance(error, SendFailedError))


def _request_refusal(rows: list[StatusRow], api_url: str) -> _Outcome | None:
    """A refusal of the whole query: one negative row that names no receiver."""
    if len(rows) == 1 and rows[0].statuscode < 0 and not rows[0].phone:
        return _gateway_refusal(rows[0].statuscode, rows[0].statusstr, api_url)
    return None


def _status(row: StatusRow, msgid: str, number: str) -> DeliveryStatus:
    return DeliveryStatus(
        msgid=row.msgid or msgid,
        number=row.phone or number,
        statuscode=row.statuscode,
        statusstr=row.statusstr,
        is_final=is_final(row.statusstr) and row.statuscode >= 0,
        raw=dict(row.raw),
    )


def _match_rows(rows: list[StatusRow], batch: list[tuple[str, str]]) -> list[DeliveryStatus]:
    """Each row with its (msgid, number) pair: by its own msgid, else by position or number."""
    if all(row.msgid for row in rows):
        return [_status(row, row.msgid, row.phone) for row in rows]
    if len(rows) == len(batch):
        return [
            _status(row, msgid, number) for row, (msgid, number) in zip(rows, batch, strict=True)
        ]
    matched = []
    for row in rows:
        candidates = [pair for pair in batch if pair[1] == row.phone]
        if len(candidates) != 1:
            raise AnswerFormatError("a status row names no msgid and cannot be matched")
        matched.append(_status(row, *candidates[0]))
    return matched

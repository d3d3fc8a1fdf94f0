"""Calls from the gateway to the vendor: Phase-Two delivery reports and receivers' replies.

Both run on background threads so request handling never waits for a vendor.
A report is acknowledged only by HTTP 200, ``text/plain``, and exactly
``magicid=tccrd_sms_gateway_rpack\\nmsgid=<msgid>\\n``; anything else is retried
(4 attempts in all, as the document says). A reply is a single attempt.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import rules
from .records import Message, Receiver
from .state import SimulatorError, SimulatorState

MAGIC = "magicid=tccrd_sms_gateway_rpack"


def report_url(
    response: str,
    msgid: int,
    number: str,
    status: str,
    with_dstaddr: bool,
    failure_statuscode: int = 0,
) -> str:
    """The Phase-Two URL: ``response`` + ``?msgid=..&statuscode=..&statusstr=..[&dstaddr=..]``.

    ``statuscode`` is 0 for ``DELIVRD`` (the worked examples) and
    ``failure_statuscode`` for every other state (the document shows none; 0
    unless configured). The query is appended literally, as the gateway does,
    even when ``response`` already has one.
    """
    code = 0 if status == rules.DELIVERED else failure_statuscode
    fields = [("msgid", str(msgid)), ("statuscode", str(code)), ("statusstr", status)]
    if with_dstaddr:
        fields.append(("dstaddr", number))
    return f"{response}?{urlencode(fields)}"


def acknowledged(
    msgid: int, status: int | None, content_type: str, body: bytes, lenient: bool
) -> bool:
    """Whether a vendor's answer acknowledges the report for ``msgid``."""
    if status != 200:
        return False
    expected = f"{MAGIC}\nmsgid={msgid}\n"
    text = body.decode("utf-8", "replace")
    if lenient:
        return text.replace("\r\n", "\n").strip() == expected.strip()
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "text/plain" and text == expected


class CallbackDispatcher:
    """Sends reports and replies from a small thread pool and records every attempt."""

    def __init__(self, state: SimulatorState, workers: int = 8) -> None:
        self.state = state
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="smsgo-simulator-callback")
        self._pending = 0
        self._idle = threading.Condition()
        state.listeners.append(self._on_final)

    # -- scheduling ----------------------------------------------------------------

    def _submit(self, job: Callable[[], None]) -> None:
        with self._idle:
            self._pending += 1

        def run() -> None:
            try:
                job()
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        self._executor.submit(run)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no callback is queued or running; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- Phase Two -----------------------------------------------------------------

    def _on_final(self, message: Message, receiver: Receiver) -> None:
        if not message.response or receiver.status is None:
            return
        config = self.state.config
        url = report_url(
            message.response,
            message.msgid,
            receiver.number,
            receiver.status,
            config.include_dstaddr,
            config.report_failure_statuscode,
        )
        msgid, number = message.msgid, receiver.number
        self._submit(lambda: self._report(url, msgid, number))

    def _report(self, url: str, msgid: int, number: str) -> None:
        config = self.state.config
        attempts = max(1, config.callback_attempts)
        for attempt in range(1, attempts + 1):
            status, content_type, body, error = _get(url, config.callback_timeout)
            ok = acknowledged(msgid, status, content_type, body, config.lenient_ack)
            self.state.record(
                "callbacks",
                {
                    "kind": "report",
                    "msgid": msgid,
                    "number": number,
                    "url": url,
                    "attempt": attempt,
                    "http_status": status,
                    "answer": body[:200].decode("utf-8", "replace"),
                    "error": error,
                    "acknowledged": ok,
                    "at": self.state.now(),
                },
            )
            if ok:
                return
            if attempt < attempts:
                time.sleep(config.callback_retry_delay)

    # -- replies -------------------------------------------------------------------

    def reply(
        self, msgid: int, srcaddr: str, smbody: str, timestamp: float | None = None
    ) -> dict[str, Any]:
        """Make receiver ``srcaddr`` answer message ``msgid``; the reply is sent to its replyurl.

        Raises :class:`SimulatorError` when the message is unknown, has no
        replyurl, ``srcaddr`` is not one of its receivers, or its replydays are over.
        """
        if not smbody:
            raise SimulatorError("a reply needs a non-empty smbody")
        with self.state.lock:
            message = self.state.messages.get(msgid)
            if message is None:
                raise SimulatorError(f"msgid {msgid} is unknown")
            if not message.replyurl:
                raise SimulatorError(f"msgid {msgid} was sent without a replyurl")
            if srcaddr not in message.receivers:
                raise SimulatorError(f"{srcaddr} is not a receiver of msgid {msgid}")
            at = self.state.now() if timestamp is None else timestamp
            days = message.replydays or 3
            if at > message.accepted_at + days * 86400:
                raise SimulatorError(
                    f"replies to msgid {msgid} were collected for {days} days only"
                )
            fields = [
                ("msgid", str(msgid)),
                ("srcaddr", srcaddr),
                ("dstaddr", self.state.config.reply_dstaddr),
                ("smbody", smbody),
                ("encoding", rules.reply_encoding(smbody)),
                ("timestamp", rules.format_taipei(at)),
            ]
            url = f"{message.replyurl}?{urlencode(fields)}"
        entry: dict[str, Any] = {"msgid": msgid, "srcaddr": srcaddr, "smbody": smbody, "url": url}
        self._submit(lambda: self._send_reply(entry))
        return entry

    def _send_reply(self, entry: dict[str, Any]) -> None:
        status, _, body, error = _get(entry["url"], self.state.config.callback_timeout)
        self.state.record(
            "replies",
            {
                **entry,
                "http_status": status,
                "answer": body[:200].decode("utf-8", "replace"),
                "error": error,
                "at": self.state.now(),
            },
        )


def _get(url: str, timeout: float) -> tuple[int | None, str, bytes, str | None]:
    """GET ``url``: (status, content type, body, error); status None when nothing came back."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.netloc, timeout=timeout)
    try:
        connection.request("GET", target, headers={"User-Agent": "smsgo-simulator"})
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type", ""), answer.read(), None
    except (OSError, http.client.HTTPException) as exc:
        return None, "", b"", f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()

"""The WSGI application: the five gateway endpoints under ``/sms_gw/`` and the admin API.

Runs under any WSGI server; the bundled one (:mod:`.server`) adds HTTP/1.1
keep-alive, connection counting and the ``drop`` fault (closing the connection
without an answer), which other servers show as an HTTP 500.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from . import admin, answers, gateway
from .callbacks import CallbackDispatcher
from .faults import ENDPOINTS, Fault
from .gateway import Params
from .state import SimulatorState

StartResponse = Callable[..., Any]
Handler = Callable[[SimulatorState, gateway.Params, str], gateway.Result]

GATEWAY_PREFIX = "/sms_gw/"
ADMIN_PREFIX = "/_admin/"

HANDLERS: dict[str, Handler] = {
    "sendsms.aspx": gateway.send,
    "query.asp": gateway.query,
    "querybulk.asp": gateway.query_bulk,
    "query_point.asp": gateway.balance,
    "sendsms_cancel.asp": gateway.cancel,
}
#: IIS matches paths case-insensitively; the canonical spelling names faults and audit.
CANONICAL = {name.lower(): name for name in ENDPOINTS}


class DropConnection(Exception):
    """Raised by the application to make the server close the connection without answering."""


class SimulatorApp:
    """WSGI callable over a :class:`SimulatorState`."""

    def __init__(
        self,
        state: SimulatorState,
        dispatcher: CallbackDispatcher,
        refuse: Callable[[float], None] | None = None,
    ) -> None:
        self.state = state
        self.dispatcher = dispatcher
        #: Closes the listening socket for N seconds (only the bundled server can).
        self.refuse = refuse

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "/")
        if path.startswith(ADMIN_PREFIX):
            status, content_type, body = admin.handle(self, environ, path[len(ADMIN_PREFIX) :])
        elif path.startswith(GATEWAY_PREFIX) and path[len(GATEWAY_PREFIX) :].lower() in HANDLERS:
            endpoint = CANONICAL[path[len(GATEWAY_PREFIX) :].lower()]
            status, content_type, body = self.gateway(endpoint, read_params(environ), environ)
        else:
            status, content_type, body = "404 Not Found", answers.PLAIN, b"Not found\n"
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def gateway(
        self, endpoint: str, params: gateway.Params, environ: dict[str, Any]
    ) -> tuple[str, str, bytes]:
        """Answer one gateway request, applying the fault injected for it, if any."""
        state = self.state
        state.process_due()
        fault, latency = state.faults.take(endpoint)
        fmt = answers.answer_format(params.get("rtype"), state.config.rtype_case_sensitive)
        entry: dict[str, Any] = {
            "endpoint": endpoint,
            "method": environ.get("REQUEST_METHOD", "GET"),
            "params": redact(params),
            "remote_addr": environ.get("REMOTE_ADDR", ""),
            "at": state.now(),
            "fault": fault.kind if fault else None,
        }
        with state.lock:
            state.requests_served += 1
        try:
            if fault is not None and not fault.carries_out and fault.kind != "slow":
                entry["carried_out"] = False
                return self._fault_answer(fault, endpoint, fmt, None, params)
            remote_addr = environ.get("REMOTE_ADDR", "")
            result = HANDLERS[endpoint.lower()](state, params, remote_addr)
            entry.update(_result_summary(result), carried_out=True)
            answer = answers.render(result, fmt, state.config, bulk=endpoint == "queryBulk.asp")
            if fault is not None:
                return self._fault_answer(fault, endpoint, fmt, answer, params)
            return "200 OK", answer[0], answer[1]
        finally:
            state.record("requests", entry)
            if latency:
                time.sleep(latency)

    def _fault_answer(
        self,
        fault: Fault,
        endpoint: str,
        fmt: str,
        answer: answers.Answer | None,
        params: Params,
    ) -> tuple[str, str, bytes]:
        if fault.kind == "drop":
            raise DropConnection(endpoint)
        if fault.kind == "http500":
            return "500 Internal Server Error", answers.PLAIN, b"Internal Server Error\n"
        if fault.kind == "garbage":
            return "200 OK", "text/html", answers.GARBAGE
        if fault.kind == "code":
            content_type, body = answers.error_answer(
                endpoint, fault.code, fmt, self.state.config, params.get("msgid", "")
            )
            return "200 OK", content_type, body
        # slow: the normal answer, late
        time.sleep(fault.seconds)
        assert answer is not None
        return "200 OK", answer[0], answer[1]


def read_params(environ: dict[str, Any]) -> gateway.Params:
    """Query-string parameters, then form fields of a POST body; UTF-8 percent-encoding.

    Bytes that are not UTF-8 are kept (surrogate-escaped) so byte counts stay right.
    """
    pairs = parse_qsl(
        environ.get("QUERY_STRING", ""),
        keep_blank_values=True,
        encoding="utf-8",
        errors="surrogateescape",
    )
    form = "application/x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "")
    if environ.get("REQUEST_METHOD") == "POST" and form:
        length = admin.content_length(environ)
        raw = environ["wsgi.input"].read(length) if length else b""
        if raw:
            pairs += parse_qsl(
                raw.decode("ascii", "surrogateescape"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="surrogateescape",
            )
    return dict(pairs)


def redact(params: gateway.Params) -> dict[str, str]:
    """``params`` with the password replaced by ``***`` (for the audit log)."""
    return {key: "***" if key.lower() == "password" else value for key, value in params.items()}


def _result_summary(result: gateway.Result) -> dict[str, Any]:
    if isinstance(result, gateway.SendResult):
        return {
            "statuscode": result.code,
            "msgid": result.msgid,
            "points": result.points,
            "reason": result.reason,
        }
    if isinstance(result, gateway.QueryResult):
        return {
            "statuscode": [row.code for row in result.rows],
            "reason": [row.reason for row in result.rows],
        }
    return {"statuscode": result.code, "reason": result.reason}

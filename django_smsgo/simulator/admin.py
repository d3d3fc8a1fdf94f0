"""The admin API under ``/_admin/``: JSON in, JSON out, never affected by faults.

``GET state | audit | messages | accounts | outcomes``;
``POST faults | reply | outcomes | accounts | reset | advance | config | wait``;
``DELETE faults``. Parameters come from the JSON body, or the query string
for quick ``curl`` calls.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl

from . import rules
from .callbacks import CallbackDispatcher
from .faults import Fault, FaultError
from .records import CONFIG_TYPES, Account, check_setting
from .state import SimulatorError, SimulatorState

JSON_TYPE = "application/json; charset=utf-8"
#: The environ key of the list of actions the bundled server runs once the answer is sent.
AFTER_ANSWER = "smsgo.simulator.after_answer"
#: The largest number an admin call takes (about 3,000 years in seconds).
MAX_NUMBER = 1e11
Answer = tuple[str, str, bytes]
Environ = dict[str, Any]


class AdminError(ValueError):
    """A bad admin call: answered 400 with the message."""


class SimulatorApp(Protocol):
    """What the admin API works on: the gateway app of :mod:`.app` (named here, not imported)."""

    state: SimulatorState
    dispatcher: CallbackDispatcher
    refuse: Callable[[float], None] | None


def handle(app: SimulatorApp, environ: dict[str, Any], route: str) -> Answer:
    """Answer one admin call; errors become 400/404/405 with ``{"error": ...}``."""
    method = environ.get("REQUEST_METHOD", "GET")
    route = route.strip("/")
    view = ROUTES.get((method, route))
    if view is None:
        known = {r for _, r in ROUTES}
        if route in known:
            return _json("405 Method Not Allowed", {"error": f"{method} not allowed on {route}"})
        return _json("404 Not Found", {"error": f"no admin call {route!r}", "calls": sorted(known)})
    try:
        data = _read_json(environ)
        return _json("200 OK", view(app, data, environ))
    except (AdminError, SimulatorError, FaultError) as exc:
        return _json("400 Bad Request", {"error": str(exc)})


def content_length(environ: dict[str, Any]) -> int:
    """The request body's length; 0 when the header is missing or not a number."""
    text = str(environ.get("CONTENT_LENGTH") or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else 0


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    length = content_length(environ)
    raw = environ["wsgi.input"].read(length) if length else b""
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise AdminError(f"the body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise AdminError("the body must be a JSON object")
        data.update(body)
    return data


def _json(status: str, payload: Any) -> Answer:
    return status, JSON_TYPE, json.dumps(payload, default=str).encode()


def _require(data: dict[str, Any], name: str) -> Any:
    if data.get(name) in (None, ""):
        raise AdminError(f"{name!r} is required")
    return data[name]


def _number(data: dict[str, Any], name: str, default: float) -> float:
    try:
        value = float(data.get(name, default))
    except (TypeError, ValueError):
        raise AdminError(f"{name!r} must be a number, got {data.get(name)!r}") from None
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise AdminError(f"{name!r} must be a finite number up to {MAX_NUMBER:g}, got {value!r}")
    return value


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


# -- views --------------------------------------------------------------------------


def state_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    app.state.process_due()
    return app.state.snapshot()


def audit_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    with app.state.lock:
        audit = app.state.audit.public()
    audit["duplicates"] = app.state.duplicates()
    audit["connections_opened"] = app.state.connections_opened
    kind = data.get("kind")
    if kind:
        if kind not in audit:
            raise AdminError(f"audit kind {kind!r} is not one of {', '.join(sorted(audit))}")
        return {kind: audit[kind]}
    return audit


def messages_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    app.state.process_due()
    with app.state.lock:
        messages = [m.public() for m in app.state.messages.values()]
    if data.get("msgid"):
        messages = [m for m in messages if str(m["msgid"]) == str(data["msgid"])]
    return {"messages": messages}


def faults_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    if data.get("clear"):
        app.state.faults.clear(data.get("endpoint"))
        return {"faults": app.state.faults.public()}
    if data.get("kind") == "refuse":
        if app.refuse is None:
            raise AdminError("refuse needs the bundled server (python -m django_smsgo.simulator)")
        seconds = _number(data, "seconds", 0)
        if seconds <= 0:
            raise AdminError("refuse needs 'seconds' > 0: the listener is reopened after that")
        refuse = app.refuse
        # Refusing hangs up every connection, this one too: only once the answer is out.
        environ.get(AFTER_ANSWER, []).append(lambda: refuse(seconds))
        return {"refused_for": seconds}
    fault = app.state.faults.add(Fault.from_json(data))
    return {"added": fault.public(), "faults": app.state.faults.public()}


def clear_faults_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    app.state.faults.clear(data.get("endpoint"))
    return {"faults": app.state.faults.public()}


def reply_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    msgid = str(_require(data, "msgid"))
    number = rules.parse_msgid(msgid)
    if number is None:
        raise AdminError(f"msgid {msgid[:40]!r} must be 1 to 20 ASCII digits")
    entry = app.dispatcher.reply(
        number, str(_require(data, "srcaddr")), str(_require(data, "smbody"))
    )
    return {"reply": entry}


def outcomes_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    if data.get("clear"):
        app.state.clear_outcomes()
    elif "number" in data:
        status = data.get("status")
        app.state.set_outcome(str(data["number"]), None if status in (None, "") else str(status))
    return {"outcomes": dict(app.state.outcome_overrides), "rule": rules.OUTCOME_BY_LAST_TWO_DIGITS}


def get_outcomes_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    return {"outcomes": dict(app.state.outcome_overrides), "rule": rules.OUTCOME_BY_LAST_TWO_DIGITS}


def accounts_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    username = str(_require(data, "username"))
    with app.state.lock:
        existing = app.state.accounts.get(username)
        if "add_points" in data:
            if existing is None:
                raise AdminError(f"account {username!r} does not exist")
            existing.points += int(_number(data, "add_points", 0))
            return {"account": existing.public()}
        points = int(_number(data, "points", existing.points if existing else 0))
        allowed_ips = data.get("allowed_ips") or []
        if not isinstance(allowed_ips, list) or not all(isinstance(a, str) for a in allowed_ips):
            raise AdminError(f"'allowed_ips' must be a list of addresses, got {allowed_ips!r}")
        account = Account(
            username=username,
            password=str(data.get("password", existing.password if existing else "")),
            points=points,
            allowed_ips=tuple(allowed_ips),
            closed=_flag(data.get("closed", False)),
        )
        if not account.password:
            raise AdminError("a new account needs a 'password'")
        app.state.put_account(account)
    return {"account": account.public()}


def get_accounts_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    with app.state.lock:
        return {"accounts": [a.public() for a in app.state.accounts.values()]}


def reset_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    app.state.reset()
    return {"reset": True}


def advance_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    finished = app.state.advance(_number(data, "seconds", 0))
    return {"finished": finished, "now": app.state.now()}


def config_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    config = app.state.config
    unknown = set(data) - set(CONFIG_TYPES)
    if unknown:
        raise AdminError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(CONFIG_TYPES)}")
    converted: dict[str, Any] = {}
    for name, value in data.items():
        kind = CONFIG_TYPES[name]
        try:
            converted[name] = _flag(value) if kind is bool else kind(value)
        except (TypeError, ValueError, OverflowError):
            raise AdminError(f"setting {name!r} must be {kind.__name__}, got {value!r}") from None
        try:
            check_setting(name, converted[name])
        except ValueError as exc:
            raise AdminError(str(exc)) from None
    # All or nothing: one bad setting changes none.
    for name, value in converted.items():
        setattr(config, name, value)
    return {"config": config.public()}


def wait_view(app: SimulatorApp, data: dict[str, Any], environ: Environ) -> Any:
    app.state.process_due()
    return {"idle": app.dispatcher.wait_idle(_number(data, "timeout", 10))}


ROUTES = {
    ("GET", "state"): state_view,
    ("GET", "audit"): audit_view,
    ("GET", "messages"): messages_view,
    ("GET", "accounts"): get_accounts_view,
    ("GET", "outcomes"): get_outcomes_view,
    ("POST", "faults"): faults_view,
    ("DELETE", "faults"): clear_faults_view,
    ("POST", "reply"): reply_view,
    ("POST", "outcomes"): outcomes_view,
    ("POST", "accounts"): accounts_view,
    ("POST", "reset"): reset_view,
    ("POST", "advance"): advance_view,
    ("POST", "config"): config_view,
    ("POST", "wait"): wait_view,
}

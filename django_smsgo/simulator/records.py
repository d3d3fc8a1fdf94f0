"""What the simulator keeps: accounts, accepted messages and their receivers, settings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Account:
    """A gateway account: credentials, balance in points, optional IP allow-list.

    An empty ``allowed_ips`` means no IP restriction (the gateway's default for new
    accounts, FAQ 4). A ``closed`` account is answered -6 (closed user).
    """

    username: str
    password: str
    points: int = 0
    allowed_ips: tuple[str, ...] = ()
    closed: bool = False

    def public(self) -> dict[str, Any]:
        """The account without its password, for the admin endpoint."""
        return {
            "username": self.username,
            "points": self.points,
            "allowed_ips": list(self.allowed_ips),
            "closed": self.closed,
        }

    def __repr__(self) -> str:
        return f"Account(username={self.username!r}, points={self.points}, password='***')"


@dataclass
class Receiver:
    """One (msgid, number) pair: its planned outcome and, once reached, its final state."""

    number: str
    outcome: str | None
    status: str | None = None
    final_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "outcome": self.outcome,
            "status": self.status,
            "final_at": self.final_at,
        }


@dataclass
class Message:
    """One accepted send request: one msgid for all its receivers."""

    msgid: int
    username: str
    encoding: str
    smbody: str
    body: str
    segments: int
    points: int
    accepted_at: float
    due_at: float
    receivers: dict[str, Receiver]
    truncated: bool = False
    pushed_to_long: bool = False
    wapurl: str = ""
    dlvtime: str | None = None
    response: str = ""
    replyurl: str = ""
    replydays: int | None = None
    cancelled: bool = False

    def public(self) -> dict[str, Any]:
        """Everything about the message, for the admin endpoint and assertions."""
        return {
            "msgid": self.msgid,
            "username": self.username,
            "encoding": self.encoding,
            "smbody": self.smbody,
            "body": self.body,
            "segments": self.segments,
            "points": self.points,
            "accepted_at": self.accepted_at,
            "due_at": self.due_at,
            "truncated": self.truncated,
            "pushed_to_long": self.pushed_to_long,
            "wapurl": self.wapurl,
            "dlvtime": self.dlvtime,
            "response": self.response,
            "replyurl": self.replyurl,
            "replydays": self.replydays,
            "cancelled": self.cancelled,
            "receivers": [receiver.public() for receiver in self.receivers.values()],
        }


#: What ``cancel_error_msgid`` may be.
CANCEL_ERROR_MSGIDS = ("echo", "code")


@dataclass
class SimulatorConfig:
    """How the simulator behaves; every field can be changed while it runs.

    Timing and Phase Two:

    ``delivery_delay``: seconds from due (now, or ``dlvtime``) to the final state.
    ``callback_retry_delay``: seconds between Phase-Two attempts.
    ``callback_attempts``: attempts in all (the document: one plus three re-tries).
    ``include_dstaddr``: Phase Two carries ``dstaddr`` as in the worked examples.
    ``lenient_ack``: also take an acknowledgement without its final ``\\n`` or with ``\\r\\n``.
    ``reply_dstaddr``: the ``dstaddr`` of a reply callback (the number replies go to).

    The form of the answers (the default is the document's):

    ``strict_json``: valid, compact JSON instead of the document's examples byte for byte
    (its query JSON has a trailing comma before ``]``, its balance JSON spaces after ``:``).
    ``stray_spaces``: reproduce the worked answers' stray spaces (``msgid= 1001...``).

    Where the document is silent (see the gateway decisions):

    ``content_type``: one Content-Type for every gateway answer; empty: by format.
    ``rtype_case_sensitive``: only ``JSON``/``XML`` in capitals choose a format.
    ``scheduled_state`` / ``enroute_state``: what a query answers before ``dlvtime`` /
    before the final state.
    ``report_failure_statuscode``: the ``statuscode`` of a Phase-Two report whose state is
    not ``DELIVRD``.
    ``report_cancelled``: a cancel sends a ``DELETED`` report to each receiver's ``response``.
    ``cancel_error_msgid``: a refused cancel answers the msgid asked (``echo``) or its code
    (``code``, like a refused send).
    """

    delivery_delay: float = 2.0
    callback_retry_delay: float = 1.0
    callback_timeout: float = 5.0
    callback_attempts: int = 4
    include_dstaddr: bool = True
    lenient_ack: bool = False
    strict_json: bool = False
    stray_spaces: bool = False
    content_type: str = ""
    rtype_case_sensitive: bool = False
    scheduled_state: str = "SCHEDULED"
    enroute_state: str = "ENROUTE"
    report_failure_statuscode: int = 0
    report_cancelled: bool = False
    cancel_error_msgid: str = "echo"
    reply_dstaddr: str = "0911000000"
    audit_limit: int = 100_000

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            check_setting(name, getattr(self, name))

    def public(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


CONFIG_TYPES: dict[str, type] = {
    "delivery_delay": float,
    "callback_retry_delay": float,
    "callback_timeout": float,
    "callback_attempts": int,
    "include_dstaddr": bool,
    "lenient_ack": bool,
    "strict_json": bool,
    "stray_spaces": bool,
    "content_type": str,
    "rtype_case_sensitive": bool,
    "scheduled_state": str,
    "enroute_state": str,
    "report_failure_statuscode": int,
    "report_cancelled": bool,
    "cancel_error_msgid": str,
    "reply_dstaddr": str,
    "audit_limit": int,
}

_PRINTABLE_ASCII = re.compile(r"[ -~]*")
#: Characters a state cannot hold: they separate the fields and lines of a query answer.
_STATE_SEPARATORS = re.compile(r"[|\r\n]")


#: Settings that are seconds, and settings that count: what each may be at least.
_SECONDS = ("delivery_delay", "callback_retry_delay", "callback_timeout")
_COUNTS = ("callback_attempts", "audit_limit")


def check_setting(name: str, value: Any) -> None:
    """Raise ``ValueError`` naming the setting and the rule when ``value`` cannot be used."""
    if name in _SECONDS and not (math.isfinite(value) and value >= 0):
        raise ValueError(f"setting {name!r} {value!r} must be a finite number of seconds >= 0")
    if name in _COUNTS and value < 1:
        raise ValueError(f"setting {name!r} {value!r} must be at least 1")
    if name == "content_type" and not _PRINTABLE_ASCII.fullmatch(value):
        raise ValueError(f"setting 'content_type' {value!r} must be printable ASCII, one line")
    if name in ("scheduled_state", "enroute_state") and _STATE_SEPARATORS.search(value):
        raise ValueError(f"setting {name!r} {value!r} must not contain '|' or a line break")
    if name == "cancel_error_msgid" and value not in CANCEL_ERROR_MSGIDS:
        raise ValueError(f"setting 'cancel_error_msgid' {value!r} must be 'echo' or 'code'")
    if name == "report_failure_statuscode" and not -10 <= value <= 0:
        raise ValueError(f"setting 'report_failure_statuscode' {value!r} must be 0 to -10")


@dataclass
class Audit:
    """Everything that happened, newest last; passwords are stored as ``***``."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    truncations: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "requests": list(self.requests),
            "deliveries": list(self.deliveries),
            "callbacks": list(self.callbacks),
            "replies": list(self.replies),
            "truncations": list(self.truncations),
        }

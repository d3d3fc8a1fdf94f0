"""What the simulator keeps: accounts, accepted messages and their receivers, settings."""

from __future__ import annotations

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


@dataclass
class SimulatorConfig:
    """How the simulator behaves; every field can be changed while it runs.

    ``delivery_delay``: seconds from due (now, or ``dlvtime``) to the final state.
    ``callback_retry_delay``: seconds between Phase-Two attempts.
    ``callback_attempts``: attempts in all (the document: one plus three re-tries).
    ``include_dstaddr``: Phase Two carries ``dstaddr`` as in the worked examples.
    ``lenient_ack``: also take an acknowledgement without its final ``\\n`` or with ``\\r\\n``.
    ``json_trailing_comma``: reproduce the document's invalid query JSON.
    ``stray_spaces``: reproduce the worked answers' stray spaces (``msgid= 1001...``).
    ``reply_dstaddr``: the ``dstaddr`` of a reply callback (the number replies go to).
    """

    delivery_delay: float = 2.0
    callback_retry_delay: float = 1.0
    callback_timeout: float = 5.0
    callback_attempts: int = 4
    include_dstaddr: bool = True
    lenient_ack: bool = False
    json_trailing_comma: bool = False
    stray_spaces: bool = False
    reply_dstaddr: str = "0911000000"
    audit_limit: int = 100_000

    def public(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


CONFIG_TYPES: dict[str, type] = {
    "delivery_delay": float,
    "callback_retry_delay": float,
    "callback_timeout": float,
    "callback_attempts": int,
    "include_dstaddr": bool,
    "lenient_ack": bool,
    "json_trailing_comma": bool,
    "stray_spaces": bool,
    "reply_dstaddr": str,
    "audit_limit": int,
}


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

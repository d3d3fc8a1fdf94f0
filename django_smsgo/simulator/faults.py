"""Fault injection: make the next N requests of an endpoint (or all, until cleared) misbehave."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

#: The endpoints faults can target; ``*`` targets all five.
ENDPOINTS = (
    "sendsms.aspx",
    "query.asp",
    "queryBulk.asp",
    "query_point.asp",
    "sendsms_cancel.asp",
)
ANY_ENDPOINT = "*"

#: Fault kinds, and whether the request is carried out (charged, delivered) by default.
KINDS: dict[str, bool] = {
    "http500": False,  # HTTP 500, request not carried out
    "slow": True,  # carried out, answered after ``seconds``
    "drop": True,  # carried out, connection closed before any answer
    "garbage": True,  # carried out, answered with a body no parser understands
    "code": False,  # answered with the gateway ``code`` (e.g. -10), not carried out
    "latency": True,  # every answer waits ``seconds`` (for benchmarks); never used up
}


class FaultError(ValueError):
    """A fault description that cannot be used; the message names the field and the rule."""


@dataclass
class Fault:
    """One injected fault.

    ``count`` is how many requests it still affects (``None``: until cleared).
    ``accept`` overrides whether the request is carried out before the fault shows.
    """

    kind: str
    endpoint: str = ANY_ENDPOINT
    count: int | None = 1
    seconds: float = 0.0
    code: int = -10
    accept: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultError(f"fault kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.endpoint != ANY_ENDPOINT and self.endpoint not in ENDPOINTS:
            raise FaultError(
                f"fault endpoint {self.endpoint!r} is not '*' or one of {', '.join(ENDPOINTS)}"
            )
        if self.count is not None and self.count < 1:
            raise FaultError(
                f"fault count {self.count!r} must be at least 1 (or null: until cleared)"
            )
        if self.seconds < 0:
            raise FaultError(f"fault seconds {self.seconds!r} must not be negative")
        if self.kind == "code" and not -10 <= self.code <= -1:
            raise FaultError(f"fault code {self.code!r} must be a table-1 error, -1 to -10")
        if self.kind == "latency":
            self.count = None

    @property
    def carries_out(self) -> bool:
        """Whether the request is handled (charged, delivered) despite the fault."""
        return KINDS[self.kind] if self.accept is None else self.accept

    def public(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "endpoint": self.endpoint,
            "count": self.count,
            "seconds": self.seconds,
            "code": self.code,
            "accept": self.carries_out,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """A fault from the admin endpoint's JSON; unknown fields are an error."""
        allowed = {"kind", "endpoint", "count", "seconds", "code", "accept"}
        unknown = set(data) - allowed
        if unknown:
            raise FaultError(f"unknown fault field(s) {sorted(unknown)}; known: {sorted(allowed)}")
        if "kind" not in data:
            raise FaultError("a fault needs a 'kind'")
        try:
            return cls(
                kind=str(data["kind"]),
                endpoint=str(data.get("endpoint", ANY_ENDPOINT)),
                count=None if data.get("count", 1) is None else int(data.get("count", 1)),
                seconds=float(data.get("seconds", 0.0)),
                code=int(data.get("code", -10)),
                accept=None if data.get("accept") is None else bool(data["accept"]),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, FaultError):
                raise
            raise FaultError(f"fault field has the wrong type: {exc}") from None


@dataclass
class FaultBook:
    """The active faults. Thread-safe; each request takes at most one fault plus latency."""

    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self, endpoint: str | None = None) -> None:
        """Remove every fault, or only those aimed at ``endpoint``."""
        with self._lock:
            if endpoint is None:
                self.faults.clear()
            else:
                self.faults = [f for f in self.faults if f.endpoint != endpoint]

    def take(self, endpoint: str) -> tuple[Fault | None, float]:
        """The fault for one request to ``endpoint`` (used up by one) and the latency to add."""
        with self._lock:
            latency = sum(
                f.seconds for f in self.faults if f.kind == "latency" and _aims(f, endpoint)
            )
            for fault in self.faults:
                if fault.kind != "latency" and _aims(fault, endpoint):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self.faults.remove(fault)
                    return fault, latency
            return None, latency

    def public(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.public() for f in self.faults]


def _aims(fault: Fault, endpoint: str) -> bool:
    return fault.endpoint in (ANY_ENDPOINT, endpoint)

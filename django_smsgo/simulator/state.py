"""The simulator's memory and clock: accounts, messages, delivery progress, audit, faults.

Thread-safe: every public method takes the state's lock. Time is ``time.time()``
plus an offset that :meth:`SimulatorState.advance` moves forward, so tests make
deliveries due without sleeping.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from . import rules
from .faults import FaultBook
from .records import Account, Audit, Message, Receiver, SimulatorConfig

#: Called with (message, receiver) when a receiver reaches its final state.
FinalListener = Callable[[Message, Receiver], None]


class SimulatorError(ValueError):
    """A Python-side or admin call that cannot be carried out; the message says why."""


class SimulatorState:
    """Everything the simulated gateway knows, and the operations tests assert on."""

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        config: SimulatorConfig | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.config = config or SimulatorConfig()
        self.faults = FaultBook()
        self._initial_accounts = [replace(a) for a in accounts]
        self.accounts: dict[str, Account] = {}
        self.messages: dict[int, Message] = {}
        self.outcome_overrides: dict[str, str | None] = {}
        self.audit = Audit()
        self.connections_opened = 0
        self.requests_served = 0
        self.listeners: list[FinalListener] = []
        self._offset = 0.0
        self._last_msgid = 0
        self._due: list[tuple[float, int, str]] = []
        self._pairs: Counter[tuple[str, str]] = Counter()
        self.reset()

    # -- clock ---------------------------------------------------------------

    def now(self) -> float:
        """Simulated epoch seconds: wall clock plus everything :meth:`advance` added."""
        return time.time() + self._offset

    def move_clock(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward; deliveries then finish at their own pace."""
        if seconds < 0:
            raise SimulatorError(f"clock seconds {seconds!r} must not be negative")
        with self.lock:
            self._offset += seconds

    def advance(self, seconds: float = 0.0) -> int:
        """Move the clock ``seconds`` forward, then finish every due delivery now.

        Deliveries that are due (``dlvtime`` reached) do not wait for the
        delivery delay. Returns how many receivers reached their final state.
        """
        if seconds < 0:
            raise SimulatorError(f"advance seconds {seconds!r} must not be negative")
        with self.lock:
            self._offset += seconds
            now = self.now()
            finished = 0
            for message in self.messages.values():
                if message.cancelled or message.due_at > now:
                    continue
                for receiver in message.receivers.values():
                    if receiver.status is None and receiver.outcome is not None:
                        self._finish(message, receiver, now)
                        finished += 1
            return finished

    # -- accounts --------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start: initial accounts, no messages, faults, overrides or audit."""
        with self.lock:
            self.accounts = {a.username: replace(a) for a in self._initial_accounts}
            self.messages.clear()
            self.outcome_overrides.clear()
            self.audit = Audit()
            self.faults.clear()
            self.connections_opened = 0
            self.requests_served = 0
            self._offset = 0.0
            self._due.clear()
            self._pairs.clear()

    def put_account(self, account: Account) -> Account:
        """Create or replace an account (kept across :meth:`reset`)."""
        if not account.username:
            raise SimulatorError("an account needs a non-empty username")
        if account.points < 0:
            raise SimulatorError(f"account points {account.points!r} must not be negative")
        with self.lock:
            self.accounts[account.username] = account
            self._initial_accounts = [
                a for a in self._initial_accounts if a.username != account.username
            ] + [replace(account)]
        return account

    def authenticate(self, username: str | None, password: str | None, remote_addr: str) -> Account:
        """The account for these credentials from this address; -2 or -6 otherwise."""
        account = self.accounts.get(username or "")
        if account is None or password is None or account.password != password:
            raise rules.RuleError(-2, "wrong username or password")
        if account.allowed_ips and remote_addr not in account.allowed_ips:
            raise rules.RuleError(-2, f"address {remote_addr} is not on the account's allow-list")
        if account.closed:
            raise rules.RuleError(-6, "the account is closed")
        return account

    # -- messages --------------------------------------------------------------

    def next_msgid(self) -> int:
        """A new 16-digit msgid: Taipei ``yyMMddHHmmss`` and a 4-digit sequence, increasing."""
        stamp = int(time.strftime("%y%m%d%H%M%S", time.gmtime(self.now() + 8 * 3600)))
        candidate = stamp * 10_000
        self._last_msgid = max(candidate, self._last_msgid + 1)
        return self._last_msgid

    def outcome_for(self, number: str) -> str | None:
        """The final state ``number`` will reach: an override, else the last-two-digits rule."""
        if number in self.outcome_overrides:
            return self.outcome_overrides[number]
        return rules.outcome_for_number(number)

    def set_outcome(self, number: str, status: str | None) -> None:
        """Make ``number`` reach ``status`` (a table-2 state) or never turn final (``None``)."""
        if status is not None and status not in rules.FINAL_STATES:
            raise SimulatorError(
                f"outcome {status!r} is not a final state; use one of "
                f"{', '.join(sorted(rules.FINAL_STATES))} or null for never final"
            )
        with self.lock:
            self.outcome_overrides[number] = status

    def clear_outcomes(self) -> None:
        with self.lock:
            self.outcome_overrides.clear()

    def store(self, message: Message, account: Account) -> None:
        """Keep an accepted message and take its points from ``account``."""
        with self.lock:
            account.points -= message.points
            self.messages[message.msgid] = message
            final_at = message.due_at + self.config.delivery_delay
            for number, receiver in message.receivers.items():
                self._pairs[(number, message.smbody)] += 1
                if receiver.outcome is not None:
                    heapq.heappush(self._due, (final_at, message.msgid, number))
            if message.truncated:
                self._record(
                    self.audit.truncations,
                    {
                        "msgid": message.msgid,
                        "encoding": message.encoding,
                        "received": message.smbody,
                        "sent": message.body,
                        "received_length": len(message.smbody),
                        "sent_length": len(message.body),
                    },
                )

    def cancel(self, message: Message, account: Account) -> None:
        """Cancel a scheduled message and give its points back.

        Each receiver is final in table 2's ``DELETED``; with ``report_cancelled``
        that is reported to the message's ``response`` like a delivery, else not
        (Phase Two follows delivery to the SMSC or its timeout, and a cancelled
        message has neither). Nothing is delivered, so the deliveries audit
        gets no entry.
        """
        with self.lock:
            message.cancelled = True
            account.points += message.points
            now = self.now()
            for number, receiver in message.receivers.items():
                self._pairs[(number, message.smbody)] -= 1
                receiver.status, receiver.final_at = rules.DELETED, now
                if self.config.report_cancelled:
                    for listener in self.listeners:
                        listener(message, receiver)

    def status_of(self, message: Message, number: str) -> str:
        """What a query answers for one receiver now (the pending names are settings)."""
        receiver = message.receivers[number]
        if receiver.status is not None:
            return receiver.status
        if message.due_at > self.now():
            return self.config.scheduled_state
        return self.config.enroute_state

    # -- delivery ----------------------------------------------------------------

    def process_due(self) -> int:
        """Finish every delivery whose time has come; returns how many finished."""
        finished = 0
        with self.lock:
            now = self.now()
            while self._due and self._due[0][0] <= now:
                _, msgid, number = heapq.heappop(self._due)
                message = self.messages.get(msgid)
                if message is None or message.cancelled:
                    continue
                receiver = message.receivers[number]
                if receiver.status is None and receiver.outcome is not None:
                    self._finish(message, receiver, now)
                    finished += 1
        return finished

    def _finish(self, message: Message, receiver: Receiver, now: float) -> None:
        receiver.status = receiver.outcome
        receiver.final_at = now
        self._record(
            self.audit.deliveries,
            {
                "msgid": message.msgid,
                "number": receiver.number,
                "status": receiver.status,
                "at": now,
                "body": message.body,
            },
        )
        for listener in self.listeners:
            listener(message, receiver)

    # -- audit -------------------------------------------------------------------

    def _record(self, log: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        log.append(entry)
        if len(log) > self.config.audit_limit:
            del log[: len(log) - self.config.audit_limit]

    def record(self, kind: str, entry: dict[str, Any]) -> None:
        """Append ``entry`` to the audit log ``kind`` (requests, callbacks, replies)."""
        with self.lock:
            self._record(getattr(self.audit, kind), entry)

    def count_connection(self) -> None:
        with self.lock:
            self.connections_opened += 1

    def duplicates(self) -> dict[str, int]:
        """(number, body) pairs accepted more than once, and the extra acceptances in all."""
        with self.lock:
            repeated = [count for count in self._pairs.values() if count > 1]
        return {"pairs": len(repeated), "extra_sends": sum(count - 1 for count in repeated)}

    def snapshot(self) -> dict[str, Any]:
        """The state in figures, for ``GET /_admin/state``."""
        with self.lock:
            receivers = [r for m in self.messages.values() for r in m.receivers.values()]
            return {
                "now": self.now(),
                "accounts": [a.public() for a in self.accounts.values()],
                "messages": len(self.messages),
                "receivers": len(receivers),
                "final": sum(1 for r in receivers if r.status is not None),
                "cancelled": sum(1 for m in self.messages.values() if m.cancelled),
                "duplicates": self.duplicates(),
                "connections_opened": self.connections_opened,
                "requests_served": self.requests_served,
                "callbacks": len(self.audit.callbacks),
                "faults": self.faults.public(),
                "outcome_overrides": dict(self.outcome_overrides),
                "config": self.config.public(),
            }

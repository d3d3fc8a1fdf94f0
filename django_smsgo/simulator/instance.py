"""One running simulated gateway: state, WSGI app, HTTP server, callbacks and clock ticker."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from .app import SimulatorApp
from .callbacks import CallbackDispatcher
from .faults import ANY_ENDPOINT, Fault
from .records import Account, Message, SimulatorConfig
from .server import SimulatorServer
from .state import SimulatorState

#: How often the ticker finishes due deliveries (and so fires Phase Two) unprompted.
TICK_SECONDS = 0.02


class Simulator:
    """A simulated smsgo gateway on ``host:port`` (port 0: a free one).

    ``with Simulator(accounts=[Account("u", "p", 100)]) as gateway:`` starts it;
    ``gateway.base_url`` ends in ``/sms_gw/``; ``gateway.state`` is the
    :class:`SimulatorState` for assertions; the methods below are shortcuts
    for what the admin API offers over HTTP.
    """

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        config: SimulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = SimulatorState(accounts, config)
        self.dispatcher = CallbackDispatcher(self.state)
        self.app = SimulatorApp(self.state, self.dispatcher, refuse=self._refuse_for)
        self.server = SimulatorServer(
            self.app, host, port, on_connection=self.state.count_connection
        )
        self._stopping = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> Simulator:
        """Listen and start finishing deliveries in the background."""
        self.server.start()
        self._stopping.clear()
        self._ticker = threading.Thread(
            target=self._tick, name="smsgo-simulator-ticker", daemon=True
        )
        self._ticker.start()
        return self

    def _tick(self) -> None:
        while not self._stopping.wait(TICK_SECONDS):
            self.state.process_due()

    def stop(self) -> None:
        """Stop listening, the ticker and the callback threads."""
        self._stopping.set()
        self.server.stop()
        if self._ticker is not None:
            self._ticker.join()
        self.dispatcher.shutdown()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        host = f"[{self.server.host}]" if ":" in self.server.host else self.server.host
        return f"http://{host}:{self.server.port}/"

    @property
    def base_url(self) -> str:
        """The gateway base URL, like ``https://www.smsgo.com.tw/sms_gw/``."""
        return self.root_url + "sms_gw/"

    @property
    def admin_url(self) -> str:
        return self.root_url + "_admin/"

    # -- shortcuts for tests -----------------------------------------------------------

    def add_account(
        self, username: str, password: str, points: int, allowed_ips: Iterable[str] = ()
    ) -> Account:
        """Create or replace an account."""
        return self.state.put_account(Account(username, password, points, tuple(allowed_ips)))

    def balance(self, username: str) -> int:
        return self.state.accounts[username].points

    def fault(
        self,
        kind: str,
        endpoint: str = ANY_ENDPOINT,
        count: int | None = 1,
        seconds: float = 0.0,
        code: int = -10,
        accept: bool | None = None,
    ) -> Fault:
        """Inject a fault for the next ``count`` requests (``None``: until cleared)."""
        return self.state.faults.add(Fault(kind, endpoint, count, seconds, code, accept))

    def clear_faults(self, endpoint: str | None = None) -> None:
        self.state.faults.clear(endpoint)

    def set_outcome(self, number: str, status: str | None) -> None:
        """Make ``number`` reach ``status``, or never turn final with ``None``."""
        self.state.set_outcome(number, status)

    def advance(self, seconds: float = 0.0) -> int:
        """Move the clock and finish every due delivery now (see :meth:`SimulatorState.advance`)."""
        return self.state.advance(seconds)

    def reply(self, msgid: int | str, srcaddr: str, smbody: str) -> dict[str, Any]:
        """Make ``srcaddr`` reply ``smbody`` to ``msgid`` (sent to the message's replyurl)."""
        return self.dispatcher.reply(int(msgid), srcaddr, smbody)

    def wait_for_callbacks(self, timeout: float = 10.0) -> bool:
        """Finish due deliveries, then wait until every report and reply has been sent."""
        self.state.process_due()
        return self.dispatcher.wait_idle(timeout)

    def refuse(self) -> None:
        """Stop listening: connecting is refused until :meth:`resume`."""
        self.server.refuse()

    def resume(self) -> None:
        self.server.resume()

    def _refuse_for(self, seconds: float) -> None:
        # The admin API calls this once its answer has gone out (see admin.AFTER_ANSWER).
        self.server.refuse(seconds=seconds)

    def message(self, msgid: int | str) -> Message:
        """The accepted message ``msgid`` (KeyError if there is none)."""
        return self.state.messages[int(msgid)]

    @property
    def messages(self) -> list[Message]:
        with self.state.lock:
            return list(self.state.messages.values())

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The audit log of gateway requests, passwords as ``***``."""
        with self.state.lock:
            return list(self.state.audit.requests)

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """Every Phase-Two attempt, oldest first."""
        with self.state.lock:
            return list(self.state.audit.callbacks)

    @property
    def replies(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.audit.replies)

    def duplicates(self) -> dict[str, int]:
        return self.state.duplicates()

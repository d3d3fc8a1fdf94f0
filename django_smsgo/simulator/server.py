"""A small threaded HTTP/1.1 server for the simulator's WSGI application.

Why not ``wsgiref``: it closes the connection after every answer, and the
client pools connections (the benchmarks count connections opened). This
server keeps connections alive, writes each answer in one ``send`` with
``TCP_NODELAY`` (no Nagle/delayed-ACK stalls), counts connections, can close a
connection without answering (the ``drop`` fault) and can stop listening for a
while, so that connecting is refused (the backup-host scenario).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import select
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from .admin import AFTER_ANSWER
from .app import DropConnection

logger = logging.getLogger("django_smsgo.simulator")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]

_PASSWORD = re.compile(r"((?:^|[?&\s])password=)[^&\s]*", re.IGNORECASE)

#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 120.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "smsgo-simulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: SimulatorServer  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        # The request line carries the account password in its query string.
        line = _PASSWORD.sub(r"\1***", format % args)
        logger.debug("%s - %s", self.address_string(), line)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_GET
    do_DELETE = do_GET
    do_HEAD = do_GET

    def _environ(self) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        length = _content_length(self.headers.get("Content-Length"))
        body = self.rfile.read(length) if length else b""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "SERVER_NAME": self.server.host,
            "SERVER_PORT": str(self.server.port),
            "SERVER_PROTOCOL": self.request_version,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        return environ

    def _serve(self) -> None:
        if _content_length(self.headers.get("Content-Length")) is None:
            # Neither a number nor absent: the body's end cannot be found.
            self.send_error(400, "Content-Length is not a number")
            self.close_connection = True
            return
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            captured["status"] = status
            captured["headers"] = headers

        after_answer: list[Callable[[], None]] = []
        try:
            environ = self._environ()
            environ[AFTER_ANSWER] = after_answer
            chunks = self.server.app(environ, start_response)
            body = b"".join(chunks)
        except DropConnection:
            self.close_connection = True
            _hang_up(self.connection)
            return
        except Exception:
            logger.exception("simulator error on %s %s", self.command, self.path.split("?")[0])
            captured = {"status": "500 Internal Server Error", "headers": []}
            body = b"Internal Server Error\n"
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        lines = [f"HTTP/1.1 {captured['status']}"]
        lines += [f"{k}: {v}" for k, v in headers]
        lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + body)
        self.log_request(captured["status"].split(" ", 1)[0], len(body))
        for action in after_answer:
            action()


def _content_length(header: str | None) -> int | None:
    """The Content-Length header as a number (0 when absent); ``None`` when it is not one."""
    if header is None or header == "":
        return 0
    text = header.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def _hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class SimulatorServer:
    """Serves a WSGI app on ``host:port`` (0: a free port) from background threads."""

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        on_connection: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.on_connection = on_connection
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._resume_timer: threading.Timer | None = None
        self._stopped = False
        #: Held while the listener opens or closes: refuse(), resume() and stop() never overlap.
        self._listener_lock = threading.Lock()
        #: Notified whenever the server starts or stops listening.
        self._listening_changed = threading.Condition()
        #: How many times :meth:`refuse` closed the listener.
        self.refusals = 0

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def wait_listening(self, refusals: int = 0, timeout: float = 10.0) -> bool:
        """Wait until the listener has been closed ``refusals`` times (or more) and is open.

        A condition, not a clock: ``wait_listening(refusals=1)`` after a
        ``refuse`` fault returns once that refusal is over, however loaded the
        machine. False if ``timeout`` seconds passed first.
        """
        with self._listening_changed:
            return self._listening_changed.wait_for(
                lambda: self.refusals >= refusals and self.listening, timeout
            )

    def _changed(self) -> None:
        with self._listening_changed:
            self._listening_changed.notify_all()

    def start(self) -> SimulatorServer:
        """Bind and listen; the port is kept for :meth:`resume`."""
        with self._listener_lock:
            self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(256)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(listener,), name="smsgo-simulator-accept", daemon=True
        )
        self._accept_thread.start()
        self._changed()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            readable, _, _ = select.select([listener, self._wake_r], [], [])
            if self._wake_r in readable:
                self._wake_r.recv(64)
                return
            try:
                connection, address = listener.accept()
            except OSError:
                return
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.on_connection is not None:
                self.on_connection()
            with self._lock:
                self._connections.add(connection)
            threading.Thread(
                target=self._serve_connection,
                args=(connection, address),
                name="smsgo-simulator-connection",
                daemon=True,
            ).start()

    def _serve_connection(self, connection: socket.socket, address: Any) -> None:
        try:
            _Handler(connection, address, self)  # type: ignore[arg-type]
        except OSError:
            pass  # the peer went away, or refuse()/stop() hung up
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def refuse(self, seconds: float | None = None) -> None:
        """Stop listening and hang up every open connection: connecting is refused.

        With ``seconds``, listen again on the same port after that long.
        """
        self._close_listener(count=True)
        if seconds is not None and not self._stopped:
            self._resume_timer = threading.Timer(seconds, self._resume_later)
            self._resume_timer.daemon = True
            self._resume_timer.start()

    def _close_listener(self, count: bool) -> None:
        # Under the lock from start to end, so that stop() never closes the wake-up
        # sockets while a refusal is still waking the accept thread.
        with self._listener_lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                self._wake_w.send(b"x")
                if self._accept_thread is not None:
                    self._accept_thread.join()
                listener.close()
                if count:
                    self.refusals += 1
                self._changed()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _hang_up(connection)

    def resume(self) -> None:
        """Listen again on the same port after :meth:`refuse` (never after :meth:`stop`).

        Raises ``OSError`` when another program took the port meanwhile; the
        timer of a refusal with ``seconds`` logs that instead.
        """
        with self._listener_lock:
            if self._listener is None and not self._stopped:
                self._listen()

    def _resume_later(self) -> None:
        try:
            self.resume()
        except OSError as exc:
            logger.error("the simulator cannot listen on port %s again: %s", self.port, exc)

    def stop(self) -> None:
        """Stop for good: no listener, no connections, no reopening."""
        with self._listener_lock:
            self._stopped = True
        if self._resume_timer is not None:
            self._resume_timer.cancel()
        self._close_listener(count=False)
        with self._listener_lock:
            self._wake_r.close()
            self._wake_w.close()

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
        length = int(self.headers.get("Content-Length") or 0)
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
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            captured["status"] = status
            captured["headers"] = headers

        try:
            chunks = self.server.app(self._environ(), start_response)
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

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def start(self) -> SimulatorServer:
        """Bind and listen; the port is kept for :meth:`resume`."""
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
        return self

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
        listener, self._listener = self._listener, None
        if listener is not None:
            self._wake_w.send(b"x")
            if self._accept_thread is not None:
                self._accept_thread.join()
            listener.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _hang_up(connection)
        if seconds is not None:
            self._resume_timer = threading.Timer(seconds, self.resume)
            self._resume_timer.daemon = True
            self._resume_timer.start()

    def resume(self) -> None:
        """Listen again on the same port after :meth:`refuse`."""
        if self._listener is None:
            self.start()

    def stop(self) -> None:
        """Stop for good: no listener, no connections."""
        if self._resume_timer is not None:
            self._resume_timer.cancel()
        self.refuse()
        self._wake_r.close()
        self._wake_w.close()

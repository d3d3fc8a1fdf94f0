"""Real servers on loopback for the client's tests.

* ``primary`` / ``backup``: pytest-httpserver instances answering exact bytes
  and recording every request they receive;
* ``dropping_server``: a raw socket server that reads a request and closes the
  connection without answering;
* ``refused_url``: a loopback port with nothing listening;
* ``tls_certificates`` / ``tls_server``: a real TLS server that misbehaves on
  purpose (see :mod:`tests.tls_server`);
* ``smsgo_simulator`` (the bundled simulator) in each of its answer modes: the
  document's exact forms (the default), valid JSON (``strict_json``) and the
  worked examples' stray spaces, so the client is shown to read every form.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from django_smsgo.client import SmsgoClient
from django_smsgo.simulator import SimulatorConfig
from tests.tls_server import tls_certificates, tls_server  # noqa: F401 - fixtures

USERNAME = "tester"
#: Characters that change under URL encoding, to catch every encoded form in leaks.
PASSWORD = "S3cr3t pw&=+/%"
BASE = "/sms_gw/"


#: The simulator's answer modes: name -> settings on top of the test defaults.
SIMULATOR_MODES: dict[str, dict[str, bool]] = {
    "documented": {},
    "strict-json": {"strict_json": True},
    "stray-spaces": {"stray_spaces": True},
}


@pytest.fixture(params=sorted(SIMULATOR_MODES))
def smsgo_simulator_config(request: pytest.FixtureRequest) -> SimulatorConfig:
    """The plugin's test settings, in each answer mode (every simulator test runs in each)."""
    return SimulatorConfig(
        delivery_delay=0.0,
        callback_retry_delay=0.0,
        callback_timeout=5.0,
        **SIMULATOR_MODES[request.param],
    )


@pytest.fixture(scope="session")
def _primary_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _backup_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def primary(_primary_server: HTTPServer) -> Iterator[HTTPServer]:
    """The primary host: a loopback server answering the bytes a test sets up."""
    _primary_server.clear()
    yield _primary_server
    _primary_server.clear()


@pytest.fixture
def backup(_backup_server: HTTPServer) -> Iterator[HTTPServer]:
    """The backup host, a second loopback server."""
    _backup_server.clear()
    yield _backup_server
    _backup_server.clear()


def base_url(server: HTTPServer) -> str:
    return server.url_for(BASE)


@pytest.fixture
def refused_url() -> str:
    """An http URL on a loopback port where nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}{BASE}"


class DroppingServer:
    """Accepts connections, reads one request head, then closes without answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{BASE}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    self.requests.append(data)

    def close(self) -> None:
        self.sock.close()


class SilentServer(DroppingServer):
    """Reads a request and never answers (until it is closed): a read timeout."""

    def _serve(self) -> None:
        held = []
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                break
            self.requests.append(conn.recv(65536))
            held.append(conn)  # keep it open, unanswered
        for conn in held:
            conn.close()


class StaleKeepAliveServer(DroppingServer):
    """Answers the first request of a connection with keep-alive, then closes it on the next."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        super().__init__()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                for index in range(2):
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if not data:
                        break
                    self.requests.append(data)
                    if index == 0:
                        conn.sendall(
                            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                            b"Connection: keep-alive\r\n"
                            b"Content-Length: "
                            + str(len(self.answer)).encode()
                            + b"\r\n\r\n"
                            + self.answer
                        )


class KeepAliveServer:
    """An HTTP/1.1 server that keeps connections open; records each request's client port."""

    def __init__(self, answer: bytes) -> None:
        answer_bytes = answer
        ports: list[int] = []
        self.ports = ports

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                ports.append(self.client_address[1])
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer_bytes)))
                self.end_headers()
                self.wfile.write(answer_bytes)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{BASE}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def dropping_server() -> Iterator[DroppingServer]:
    server = DroppingServer()
    yield server
    server.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def make_client() -> Iterator[Callable[..., SmsgoClient]]:
    """Build clients with the test credentials; every one is closed after the test."""
    clients: list[SmsgoClient] = []

    def build(api_url: str, backup_api_url: str | None = None, **kwargs: Any) -> SmsgoClient:
        client = SmsgoClient(
            USERNAME,
            PASSWORD,
            api_url=api_url,
            backup_api_url=backup_api_url,
            connect_timeout=kwargs.pop("connect_timeout", 2.0),
            read_timeout=kwargs.pop("read_timeout", 5.0),
            **kwargs,
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()

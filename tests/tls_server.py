"""A real TLS gateway on loopback that misbehaves on purpose, and the certificates it uses.

The certificates are made with the ``openssl`` command line for each test
session: a test CA, a leaf for ``IP:127.0.0.1`` signed by it, a leaf for
another host name (hostname mismatch) and a leaf signed by a second CA the
client does not trust.

:class:`TlsServer` runs the TLS layer itself over memory BIOs, so it can do
what no well-behaved server does: flip a byte of an encrypted record, send a
fatal alert, reset the TCP connection, close without an answer, cut the
answer short or stall. It counts the complete requests it has read; a
request counted there is one the gateway could have carried out.

With ``upstream`` (the base URL of a plain-HTTP gateway, the bundled
simulator) it is a TLS front of that gateway: each request is passed on and
carried out there *before* the misbehaviour, so a corrupted record or a reset
comes after the gateway accepted the send, the case that must never be sent
twice. ``faults`` limits the misbehaviour to that many requests to
``fault_path``; every other request is answered with the gateway's answer.

Shared by the client's TLS tests and the end-to-end ones of the reliability
suite (``tls_certificates`` and ``tls_server`` are fixtures for both).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ANSWER_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"


@dataclass(frozen=True)
class Certificates:
    """Paths of the PEM files one test session uses."""

    ca: Path
    leaf: Path  # IP:127.0.0.1, signed by ``ca``
    leaf_key: Path
    other_name: Path  # DNS:gateway.example only, signed by ``ca``
    other_name_key: Path
    foreign: Path  # IP:127.0.0.1, signed by a CA the client does not know
    foreign_key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign",
    )  # fmt: skip
    return cert, key


def _leaf(folder: Path, name: str, san: str, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    cert, key, request = folder / f"{name}.pem", folder / f"{name}.key", folder / f"{name}.csr"
    extensions = folder / f"{name}.ext"
    extensions.write_text(
        f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-set_serial", str(abs(hash(name)) % 10**9), "-out", str(cert), "-days", "2",
        "-extfile", str(extensions),
    )  # fmt: skip
    return cert, key


def make_certificates(folder: Path) -> Certificates:
    """A test CA and three server certificates in ``folder``."""
    ca = _ca(folder, "test-ca")
    foreign_ca = _ca(folder, "foreign-ca")
    leaf = _leaf(folder, "gateway", "IP:127.0.0.1", ca)
    other = _leaf(folder, "other-name", "DNS:gateway.example", ca)
    foreign = _leaf(folder, "foreign", "IP:127.0.0.1", foreign_ca)
    return Certificates(ca[0], *leaf, *other, *foreign)


class _Closed(Exception):
    """The client went away."""


class _TlsConnection:
    """The server side of one TLS connection, driven by hand over memory BIOs."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)

    def flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _receive(self) -> None:
        self.flush()
        data = self.sock.recv(65536)
        if not data:
            raise _Closed
        self.incoming.write(data)

    def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._receive()
        self.flush()

    def read_request(self) -> bytes:
        """One request head (the gateway's requests are GETs without a body)."""
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._receive()
                continue
            if not chunk:
                raise _Closed
            data += chunk
        return data

    def write(self, data: bytes) -> None:
        self.tls.write(data)
        self.flush()

    def records(self, data: bytes) -> bytes:
        """``data`` as encrypted records, not yet sent."""
        self.tls.write(data)
        return self.outgoing.read()

    def fatal_alert(self) -> None:
        """Make our own TLS engine send a fatal alert, encrypted under the current keys.

        A record with a bad authentication tag is fed in: the engine refuses it
        with ``bad_record_mac``, which it reports to the peer.
        """
        self.incoming.write(b"\x17\x03\x03\x00\x20" + b"\x00" * 32)
        with contextlib.suppress(ssl.SSLError):
            self.tls.read(1)
        self.flush()

    def close_notify(self) -> None:
        with contextlib.suppress(ssl.SSLError):
            self.tls.unwrap()
        self.flush()

    def reset(self) -> None:
        # Linger on, timeout zero: close() sends RST instead of FIN.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


class TlsServer:
    """A TLS server on 127.0.0.1 that reads each request and then does ``behaviour``.

    Behaviours after a complete request: ``answer`` (a 200 with ``answer``,
    keep-alive), ``corrupt`` (the answer with one byte of its record flipped),
    ``alert`` (a fatal TLS alert), ``reset`` (TCP RST), ``close`` (close_notify
    and FIN), ``ragged`` (FIN without close_notify), ``half`` (half the answer,
    then close) and ``stall`` (nothing until the server stops). Before the
    request: ``handshake-reset`` resets the connection during the handshake.
    """

    def __init__(
        self,
        cert: Path,
        key: Path,
        behaviour: str = "answer",
        answer: bytes = b"",
        *,
        upstream: str | None = None,
        faults: int | None = None,
        fault_path: str = "",
    ) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.behaviour = behaviour
        self.answer = answer
        self.upstream = urlsplit(upstream) if upstream else None
        self.faults_left = faults
        self.fault_path = fault_path
        self.faulted: list[bytes] = []  # the requests that met the misbehaviour
        self._lock = threading.Lock()
        self.requests: list[bytes] = []
        self.connections = 0
        self.handshake_errors: list[str] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def url(self, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}/sms_gw/"

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        connection = _TlsConnection(sock, self.context)
        try:
            if self.behaviour == "handshake-reset" and self._use_fault(b""):
                sock.recv(65536)  # the ClientHello
                connection.reset()
                return
            try:
                connection.handshake()
            except ssl.SSLError as error:
                self.handshake_errors.append(str(error.reason))
                connection.flush()
                return
            while True:
                request = connection.read_request()
                with self._lock:
                    self.requests.append(request)
                if not self._after_request(connection):
                    return
        except (_Closed, OSError):
            return
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _pass_on(self, request: bytes) -> bytes:
        """Carry ``request`` out at the upstream gateway; the body of its answer."""
        assert self.upstream is not None
        target = request.split(b" ", 2)[1].decode("ascii")
        gateway = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            gateway.request("GET", target)
            return gateway.getresponse().read()
        finally:
            gateway.close()

    def _misbehaves(self, request: bytes) -> bool:
        """Whether this request meets the misbehaviour (uses up one of ``faults``)."""
        if self.behaviour == "answer" or self.fault_path.encode() not in request.split(b"\r\n")[0]:
            return False
        return self._use_fault(request)

    def _use_fault(self, request: bytes) -> bool:
        with self._lock:
            if self.faults_left is not None:
                if self.faults_left <= 0:
                    return False
                self.faults_left -= 1
            self.faulted.append(request)
        return True

    def _after_request(self, connection: _TlsConnection) -> bool:
        """Act on one request; True to read another on the same connection."""
        request = self.requests[-1]
        answer = self._pass_on(request) if self.upstream is not None else self.answer
        whole = ANSWER_HEAD % len(answer) + answer
        behaviour = self.behaviour if self._misbehaves(request) else "answer"
        if behaviour == "answer":
            connection.write(whole)
            return True
        if behaviour == "corrupt":
            records = bytearray(connection.records(whole))
            records[-3] ^= 0xFF  # inside the authentication tag of the last record
            connection.sock.sendall(bytes(records))
            self._stopping.wait(2)
        elif behaviour == "alert":
            connection.fatal_alert()
            self._stopping.wait(2)
        elif behaviour == "reset":
            connection.reset()
        elif behaviour == "close":
            connection.close_notify()
        elif behaviour == "half":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
            connection.write(head + answer[: len(answer) // 2])
            connection.close_notify()
        elif behaviour == "stall":
            self._stopping.wait(30)
        # "ragged" and the rest: close the TCP connection without a word.
        return False

    def close(self) -> None:
        self._stopping.set()
        self.sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture(scope="session")
def tls_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A test CA and server certificates, made with ``openssl`` once per session."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(tls_certificates: Certificates) -> Iterator[Callable[..., TlsServer]]:
    """Start TLS servers: ``tls_server(behaviour, answer=b"...", cert="leaf", upstream=...)``."""
    started: list[TlsServer] = []

    def start(
        behaviour: str = "answer", answer: bytes = b"", cert: str = "leaf", **options: Any
    ) -> TlsServer:
        paths: dict[str, tuple[Path, Path]] = {
            "leaf": (tls_certificates.leaf, tls_certificates.leaf_key),
            "other_name": (tls_certificates.other_name, tls_certificates.other_name_key),
            "foreign": (tls_certificates.foreign, tls_certificates.foreign_key),
        }
        server = TlsServer(*paths[cert], behaviour=behaviour, answer=answer, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()

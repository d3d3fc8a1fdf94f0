"""Keep-alive connections to one gateway host: opened, checked before reuse, pooled.

Opening a connection is the *connect* phase of a request: TCP, then (for
https) the TLS handshake with certificate and host name verification. Nothing
of the request has been written yet, so any failure here means "not sent".

An idle keep-alive connection is checked before it is reused: if its socket is
readable, the server has closed it (or sent something unasked), and it is
discarded unused; nothing was written on it, so that too is "not sent".

TLS verifies certificates by default against the system's default verify
paths (``ssl.create_default_context()``, which honours ``SSL_CERT_FILE`` and
``SSL_CERT_DIR``). ``certifi`` is deliberately not used even when installed:
whether a package happens to be installed would change which CAs are trusted,
and the system store is the one operators update and extend (corporate CAs).
Pass an ``ssl_context`` built from ``certifi.where()`` to use it.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

#: An idle connection older than this is closed rather than reused. Servers
#: close idle keep-alive connections after a while (IIS: 120 s); a request
#: written just as the server closes is lost *after* it may have arrived, so
#: connections are retired well before any usual server limit.
IDLE_LIMIT = 30.0


@dataclass(frozen=True)
class Host:
    """Where one base URL points: scheme, host, port and the path the endpoints follow."""

    api_url: str
    tls: bool
    hostname: str
    port: int
    path: str
    host_header: str

    @classmethod
    def from_url(cls, api_url: str) -> Host:
        parts = urlsplit(api_url)
        tls = parts.scheme == "https"
        default_port = 443 if tls else 80
        hostname = parts.hostname or ""
        port = parts.port or default_port
        shown = f"[{hostname}]" if ":" in hostname else hostname
        header = shown if port == default_port else f"{shown}:{port}"
        return cls(api_url, tls, hostname, port, parts.path or "/", header)


def default_ssl_context() -> ssl.SSLContext:
    """Certificate and host name verification against the system's CAs (``SSL_CERT_FILE``)."""
    return ssl.create_default_context()


class PoolBusy(Exception):
    """Every connection the pool may open to the host is in use (nothing was written)."""


class Connection:
    """One open socket to a host, plain or TLS, with the moment it was last used."""

    __slots__ = ("idle_since", "reused", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reused = False
        self.idle_since = 0.0

    def fileno(self) -> int:
        return self.sock.fileno()

    def is_usable(self) -> bool:
        """True when nothing arrived while idle: readable means closed by the server, or junk."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return False
        try:
            return not _readable_now(self.sock)
        except (OSError, ValueError):
            return False

    def shut_down(self) -> None:
        """No more reading or writing; the socket stays open and polls as readable."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _readable_now(sock: socket.socket) -> bool:
    # poll() has no FD_SETSIZE limit (select() fails past descriptor 1023).
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def open_connection(
    host: Host, connect_timeout: float, read_timeout: float, context: ssl.SSLContext | None
) -> Connection:
    """TCP connect, then the TLS handshake for https. Raises ``OSError`` (``ssl.SSLError``)."""
    sock = socket.create_connection((host.hostname, host.port), timeout=connect_timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if host.tls:
            assert context is not None
            # The handshake (and certificate verification) happens here, under
            # the connect timeout, before a byte of the request is written.
            sock = context.wrap_socket(sock, server_hostname=host.hostname)
        sock.settimeout(read_timeout)
    except BaseException:
        sock.close()
        raise
    return Connection(sock)


class ConnectionPool:
    """At most ``size`` connections to one host; idle ones are reused last-in first-out.

    Thread-safe. :meth:`acquire` hands out a connection for one request and
    :meth:`release` takes it back (kept only when the answer was read whole).
    """

    def __init__(
        self,
        host: Host,
        size: int,
        connect_timeout: float,
        read_timeout: float,
        context: ssl.SSLContext | None,
    ) -> None:
        self.host = host
        self.size = size
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.context = context
        self._idle: list[Connection] = []
        self._open = 0
        self._pid = os.getpid()
        self._changed = threading.Condition(threading.Lock())

    def acquire(self) -> Connection:
        """A usable idle connection, or a new one (which may raise ``OSError``/``PoolBusy``)."""
        stale: list[Connection] = []
        try:
            with self._changed:
                self._forget_parent_connections()
                while self._idle:
                    connection = self._idle.pop()
                    if (
                        time.monotonic() - connection.idle_since < IDLE_LIMIT
                        and connection.is_usable()
                    ):
                        connection.reused = True
                        return connection
                    stale.append(connection)
                    self._open -= 1
                if not self._changed.wait_for(
                    lambda: self._open < self.size or bool(self._idle), self.connect_timeout
                ):
                    raise PoolBusy(f"all {self.size} connections to this host are in use")
                if self._idle:
                    connection = self._idle.pop()
                    if connection.is_usable():
                        connection.reused = True
                        return connection
                    stale.append(connection)
                    self._open -= 1
                self._open += 1  # a slot for the connection opened below
        finally:
            for connection in stale:
                connection.close()
        try:
            return open_connection(self.host, self.connect_timeout, self.read_timeout, self.context)
        except BaseException:
            with self._changed:
                self._open -= 1
                self._changed.notify()
            raise

    def release(self, connection: Connection, keep: bool) -> None:
        """Take ``connection`` back: idle for reuse when ``keep``, else closed."""
        with self._changed:
            if keep and os.getpid() == self._pid:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                self._open -= 1
            self._changed.notify()
        if not keep:
            connection.close()

    def close(self) -> None:
        """Close the idle connections (those in use are closed when released)."""
        with self._changed:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for connection in idle:
            connection.close()

    def _forget_parent_connections(self) -> None:
        # After a fork (a prefork worker) the parent's sockets are shared with
        # it: writing on them would mix two processes' requests on one stream.
        if os.getpid() != self._pid:
            self._idle = []
            self._open = 0
            self._pid = os.getpid()

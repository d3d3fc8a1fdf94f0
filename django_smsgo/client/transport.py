"""One HTTP GET to the gateway in explicit phases, each failure classified by whether it can
have arrived.

Built on the standard library: our own keep-alive pool (:mod:`.connections`)
writes the request line itself and lets ``http.client.HTTPResponse`` read the
answer. ``requests`` (and urllib3 under it) cost about four times the CPU per
request, retry and reuse connections by rules of their own, and hide *when* a
failure happened behind one exception type for several phases (an
``SSLError`` is raised both for a failed handshake and for a record broken
after the gateway took the send). Here every phase is ours:

1. **connect** — TCP, TLS handshake, certificate verification, or the check
   that an idle keep-alive connection is still usable. Nothing was written:
   a failure is "not sent" (:class:`~django_smsgo.exceptions.GatewayUnreachableError`).
2. **write** — the request line and headers. A first write that raised has
   provably delivered nothing the gateway can read (a plain ``send()`` that
   fails transfers no byte; a TLS record of at most 16 KiB that is not
   written whole cannot be decrypted): "not sent", and on a reused
   connection the request is written once more on a fresh one. A failure
   after any byte was accepted is "perhaps sent".
3. **read** — every failure is "perhaps sent": a timeout
   (:class:`~django_smsgo.exceptions.GatewayTimeoutError`), a broken or TLS-
   corrupted connection (:class:`~django_smsgo.exceptions.AnswerLostError`),
   a status other than 200 (:class:`~django_smsgo.exceptions.GatewayHTTPError`).

No library retries, no redirects followed (a 3xx is an HTTP error): a retry
nobody decided on could send an SMS twice.

Secrets: the password lives in :class:`Credentials`, whose repr hides it; the
request bytes are built and written inside :func:`_write_request`, a frame
that has returned before anything is raised; every failure is classified
*inside* the ``except`` block into a :class:`Fault` and the typed error is
raised by the caller *outside* it, so no library exception (and no frame
holding the query) is chained or kept as ``__context__``. The request line is
logged only with the password and the callback URLs masked.
"""

from __future__ import annotations

import http.client
import logging
import re
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from django_smsgo.client.connections import (
    Connection,
    ConnectionPool,
    Host,
    PoolBusy,
    default_ssl_context,
)
from django_smsgo.client.redaction import MASK, redact
from django_smsgo.exceptions import (
    AnswerLostError,
    GatewayHTTPError,
    GatewayTimeoutError,
    GatewayUnreachableError,
    TransportError,
    UncertainOutcomeError,
)
from django_smsgo.version import __version__

logger = logging.getLogger("django_smsgo.client")

USER_AGENT = f"django-smsgo/{__version__}"
_EXCERPT_LENGTH = 200
#: The gateway's answers are a few hundred bytes; anything this large is not one.
MAX_ANSWER_BYTES = 1 << 20
#: One TLS record carries at most 16 KiB; a write of at most this much is one record.
_WRITE_CHUNK = 16384
_SECRET_PARAMS = frozenset({"response", "replyurl"})
_HEADERS = (
    f"User-Agent: {USER_AGENT}\r\n"
    "Accept: text/plain, application/json, text/xml, */*\r\n"
    "Accept-Encoding: identity\r\n"
    "Connection: keep-alive\r\n\r\n"
)


class Credentials:
    """The account name and password. ``repr`` and ``str`` never show the password."""

    __slots__ = ("_password", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password

    def query(self) -> dict[str, str]:
        """The two credential parameters, for the request being built."""
        return {"username": self.username, "password": self._password}

    @property
    def password(self) -> str:
        return self._password

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would write the password into task queues and caches.
        raise TypeError("Credentials cannot be pickled")


@dataclass(frozen=True)
class Answer:
    """A complete HTTP 200 answer: its body and the host that gave it."""

    body: bytes
    api_url: str
    content_type: str
    excerpt: str  # the start of the body with credentials masked, for error messages


@dataclass(frozen=True)
class Fault:
    """Why no answer came. ``reached`` is False only when the request surely never left."""

    kind: str  # "unreachable", "busy", "timeout", "lost", "http"
    api_url: str
    detail: str
    status: int = 0

    @property
    def reached(self) -> bool:
        return self.kind not in ("unreachable", "busy")

    @property
    def host_failed(self) -> bool:
        """The host could not be reached: another host may be tried ("busy" is our own pool)."""
        return self.kind == "unreachable"

    def error(self) -> TransportError:
        """The typed exception for this fault (to be raised outside any except block)."""
        if self.kind in ("unreachable", "busy"):
            return GatewayUnreachableError(self.api_url, self.detail)
        if self.kind == "timeout":
            return GatewayTimeoutError(self.api_url, self.detail)
        if self.kind == "http":
            return GatewayHTTPError(self.api_url, self.status, self.detail)
        if self.kind == "lost":
            return AnswerLostError(self.api_url, self.detail)
        return UncertainOutcomeError(self.api_url, self.detail)


def describe(error: BaseException) -> str:
    """The exception's class and, for TLS, OpenSSL's reason: never a URL or a query."""
    name = type(error).__name__
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError) and error.reason:
        return f"{name} ({error.reason})"
    return name


class Exchange:
    """A request written on a connection whose answer has not been read yet."""

    __slots__ = ("_connection", "_pool", "_started", "_write_failure", "api_url", "endpoint")

    def __init__(
        self,
        pool: ConnectionPool,
        connection: Connection,
        endpoint: str,
        started: float,
        write_failure: str | None = None,
    ) -> None:
        self._pool = pool
        self._connection: Connection | None = connection
        self._started = started
        self._write_failure = write_failure
        self.api_url = pool.host.api_url
        self.endpoint = endpoint
        if write_failure is not None:
            # Part of the request left before the write broke. Shut the socket
            # down so that it reads as "ready" for a selector; finish() reports it.
            connection.shut_down()

    def __repr__(self) -> str:
        return f"<Exchange {self.endpoint} on {self.api_url}>"

    def fileno(self) -> int:
        """The socket's descriptor, for a selector: readable once the answer starts to come.

        -1 once the answer has been read.
        """
        if self._connection is None:
            return -1
        return self._connection.fileno()

    def finish(self) -> Answer | Fault:
        """The read phase: the whole answer, or a fault (every one of them "perhaps sent")."""
        connection = self._connection
        if connection is None:
            return Fault("lost", self.api_url, "the answer was already read")
        self._connection = None
        if self._write_failure is not None:
            self._pool.release(connection, keep=False)
            status, body, content_type = 0, b"", ""
            failure: tuple[str, str] | None = ("lost", self._write_failure)
        else:
            status, body, content_type, keep, failure = _read_response(connection)
            self._pool.release(connection, keep)
        elapsed = time.monotonic() - self._started
        if failure is not None:
            kind, detail = failure
            logger.debug(
                "%s on %s failed after %.2fs: %s", self.endpoint, self.api_url, elapsed, detail
            )
            return Fault(kind, self.api_url, detail)
        logger.debug(
            "%s on %s answered HTTP %s in %.2fs", self.endpoint, self.api_url, status, elapsed
        )
        if status != 200:
            return Fault("http", self.api_url, f"HTTP {status}", status=status)
        return Answer(body, self.api_url, content_type, _excerpt(body))

    def abandon(self) -> None:
        """Close the connection without reading the answer (the outcome stays unknown)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.release(connection, keep=False)


def _excerpt(body: bytes) -> str:
    return redact(body[:_EXCERPT_LENGTH].decode("utf-8", "replace"))


def _read_response(
    connection: Connection,
) -> tuple[int, bytes, str, bool, tuple[str, str] | None]:
    """(status, body, content type, keep the connection, (fault kind, detail) or None)."""
    response = http.client.HTTPResponse(connection.sock, method="GET")
    failure: tuple[str, str] | None = None
    try:
        response.begin()
        body = _read_body(response)
    except TimeoutError:
        failure = ("timeout", "read timeout")
    except _TooLarge:
        failure = ("lost", f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
    except (OSError, http.client.HTTPException, ValueError) as error:
        # ssl.SSLError is an OSError: a corrupt record, an alert or a reset
        # after the request was written may follow a send the gateway took.
        failure = ("lost", f"connection broken after the request was sent: {describe(error)}")
    if failure is not None:
        response.close()
        return 0, b"", "", False, failure
    keep = response.status == 200 and not response.will_close and response.isclosed()
    content_type = response.getheader("Content-Type", "") or ""
    response.close()
    return response.status, body, content_type, keep, None


class _TooLarge(Exception):
    pass


def _read_body(response: http.client.HTTPResponse) -> bytes:
    """The whole body, at most :data:`MAX_ANSWER_BYTES`; ``IncompleteRead`` when cut short."""
    length = response.length
    if length is not None:
        if length > MAX_ANSWER_BYTES:
            raise _TooLarge
        return response.read()  # raises IncompleteRead when the body is cut short
    # Chunked, or until the server closes: read in bounded steps.
    body = bytearray()
    while not response.isclosed():
        chunk = response.read(MAX_ANSWER_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise _TooLarge
    return bytes(body)


class Transport:
    """One connection pool per host and the phases of a request on it. Thread-safe."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        connect_timeout: float,
        read_timeout: float,
        pool_size: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._credentials = credentials
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.pool_size = pool_size
        self._ssl_context = ssl_context
        self._pools: dict[str, ConnectionPool] = {}

    def __repr__(self) -> str:
        return f"<Transport for {self._credentials.username!r}, {len(self._pools)} host(s)>"

    def pool(self, api_url: str) -> ConnectionPool:
        """The pool of ``api_url`` (made on first use)."""
        pool = self._pools.get(api_url)
        if pool is None:
            host = Host.from_url(api_url)
            context = None
            if host.tls:
                context = self._ssl_context or default_ssl_context()
            pool = self._pools.setdefault(
                api_url,
                ConnectionPool(
                    host, self.pool_size, self.connect_timeout, self.read_timeout, context
                ),
            )
        return pool

    def start(self, api_url: str, endpoint: str, params: dict[str, str]) -> Exchange | Fault:
        """Connect and write: an :class:`Exchange` to read, or a "not sent" :class:`Fault`.

        Never returns a fault once a byte of the request may have left: a
        write that broke half-way is an exchange whose :meth:`Exchange.finish`
        reports the loss.
        """
        pool = self.pool(api_url)
        started = time.monotonic()
        _log_request(pool.host, endpoint, params, self._credentials)
        detail = ""
        kind = "unreachable"
        for _ in range(2):  # a second time only after a zero-byte write on a reused connection
            try:
                connection = pool.acquire()
            except PoolBusy as busy:
                kind, detail = "busy", str(busy)
                break
            except OSError as error:
                detail = f"connection failed: {describe(error)}"
                break
            accepted, error_text = _write_request(
                connection, pool.host, endpoint, params, self._credentials
            )
            if error_text is None:
                return Exchange(pool, connection, endpoint, started)
            if accepted:
                failure = f"connection broke while the request was written: {error_text}"
                return Exchange(pool, connection, endpoint, started, failure)
            pool.release(connection, keep=False)
            detail = f"connection failed: nothing was written ({error_text})"
            if not connection.reused:
                break
        logger.debug(
            "%s on %s failed after %.2fs: %s",
            endpoint,
            api_url,
            time.monotonic() - started,
            detail,
        )
        return Fault(kind, api_url, detail)

    def request(self, api_url: str, endpoint: str, params: dict[str, str]) -> Answer | Fault:
        """:meth:`start` and :meth:`Exchange.finish` in one call."""
        started = self.start(api_url, endpoint, params)
        if isinstance(started, Fault):
            return started
        return started.finish()

    def close(self) -> None:
        """Close every idle connection."""
        for pool in list(self._pools.values()):
            pool.close()


def _write_request(
    connection: Connection,
    host: Host,
    endpoint: str,
    params: dict[str, str],
    credentials: Credentials,
) -> tuple[int, str | None]:
    """Write the GET on ``connection``: (bytes accepted, None) or (bytes accepted, error).

    The query (password included) exists only in this frame, which returns
    before the caller raises anything.
    """
    query = _encoded_query({**credentials.query(), **params})
    head = f"GET {host.path}{endpoint}?{query} HTTP/1.1\r\nHost: {host.host_header}\r\n"
    data = memoryview((head + _HEADERS).encode("ascii"))
    del query, head
    sock = connection.sock
    accepted = 0
    error_text: str | None = None
    try:
        while accepted < len(data):
            accepted += sock.send(data[accepted : accepted + _WRITE_CHUNK])
    except OSError as error:
        error_text = describe(error)
    data.release()
    return accepted, error_text


#: What ``quote_plus`` leaves as it is, and the comma of the msgid and number lists.
_PLAIN_OR_LISTED = re.compile(r"[A-Za-z0-9_.~,-]*")


def _encoded_query(params: dict[str, str]) -> str:
    """``urlencode(params)``, byte for byte, without quoting digits one at a time.

    Nearly every value is digits and commas (the msgid and number lists of
    ``queryBulk.asp``: 1,300 characters) or plain ASCII, and ``quote_plus``
    builds its answer a byte at a time; those values need only their commas
    quoted.
    """
    return "&".join(f"{_encoded(key)}={_encoded(value)}" for key, value in params.items())


def _encoded(value: str) -> str:
    if _PLAIN_OR_LISTED.fullmatch(value):
        return value.replace(",", "%2C")
    return quote_plus(value)


def _log_request(
    host: Host, endpoint: str, params: dict[str, str], credentials: Credentials
) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    shown = {"username": credentials.username, "password": MASK}
    shown.update({key: MASK if key in _SECRET_PARAMS else value for key, value in params.items()})
    logger.debug("GET %s%s?%s", host.api_url, endpoint, urlencode(shown, safe="*"))

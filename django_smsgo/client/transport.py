"""One HTTP GET to the gateway, classified by whether the request can have arrived.

The session is pooled (keep-alive) with the HTTP library's own retries OFF:
a retry that the library decides on could send an SMS twice. Every failure is
classified *inside* the ``except`` block into a :class:`Fault`, and the typed
error is raised by the caller *outside* it, so the requests exception (whose
message holds the full URL, password included) is neither chained nor kept as
``__context__``. The password itself lives in :class:`Credentials`, whose repr
hides it, and the full query is built in :func:`exchange`, a frame that has
returned before anything is raised.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from http.client import IncompleteRead, RemoteDisconnected
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from django_smsgo.client.redaction import redact
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


def build_session(pool_size: int = 10) -> requests.Session:
    """A keep-alive session with no automatic retries (and no redirects followed)."""
    session = requests.Session()
    no_retries = Retry(
        total=0, connect=0, read=0, redirect=0, status=0, other=0, raise_on_status=False
    )
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=no_retries)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "text/plain, application/json, text/xml, */*"
    return session


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

    kind: str  # "unreachable", "timeout", "lost", "http"
    api_url: str
    detail: str
    status: int = 0

    @property
    def reached(self) -> bool:
        return self.kind != "unreachable"

    def error(self) -> TransportError:
        """The typed exception for this fault (to be raised outside any except block)."""
        if self.kind == "unreachable":
            return GatewayUnreachableError(self.api_url, self.detail)
        if self.kind == "timeout":
            return GatewayTimeoutError(self.api_url, self.detail)
        if self.kind == "http":
            return GatewayHTTPError(self.api_url, self.status, self.detail)
        if self.kind == "lost":
            return AnswerLostError(self.api_url, self.detail)
        return UncertainOutcomeError(self.api_url, self.detail)


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and everything it wraps (args, ``reason``, cause and context)."""
    seen: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or any(item is known for known in seen):
            continue
        seen.append(item)
        pending.extend(item.args)
        pending.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
    return seen


_NEVER_LEFT = (NewConnectionError, ConnectTimeoutError, NameResolutionError, socket.gaierror)
_MAYBE_ARRIVED = (ReadTimeoutError, ProtocolError, RemoteDisconnected, IncompleteRead)


def classify(error: requests.RequestException) -> str:
    """``unreachable``, ``timeout`` or ``lost`` for an exception of ``requests``.

    Decided on the urllib3 exception underneath: a new connection that failed
    (refused, DNS, connect timeout, TLS handshake) never carried the request;
    a read timeout or a connection that broke afterwards (including a reused
    keep-alive connection the server had closed) may have.
    """
    causes = _causes(error)
    if any(isinstance(cause, _MAYBE_ARRIVED) for cause in causes):
        if any(isinstance(cause, ReadTimeoutError) for cause in causes):
            return "timeout"
        return "lost"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return "timeout"
    if isinstance(error, requests.exceptions.SSLError):
        # TLS is negotiated before the request line is written.
        return "unreachable"
    if isinstance(error, requests.exceptions.ConnectTimeout) or any(
        isinstance(cause, _NEVER_LEFT) for cause in causes
    ):
        return "unreachable"
    return "lost"


_DETAILS = {
    "unreachable": "connection failed",
    "timeout": "read timeout",
    "lost": "connection broken after the request was sent",
}


def exchange(
    session: requests.Session,
    api_url: str,
    endpoint: str,
    params: dict[str, str],
    credentials: Credentials,
    timeout: tuple[float, float],
) -> Answer | Fault:
    """GET ``api_url + endpoint`` with the credentials and ``params``; never raises for transport.

    Returns the :class:`Answer` of an HTTP 200, or a :class:`Fault` saying
    whether the request may have reached the gateway.
    """
    query = {**credentials.query(), **params}
    started = time.monotonic()
    kind = ""
    error_name = ""
    try:
        response = session.get(
            api_url + endpoint, params=query, timeout=timeout, allow_redirects=False
        )
        body = response.content
    except requests.RequestException as error:
        kind = classify(error)
        error_name = type(error).__name__
    del query
    elapsed = time.monotonic() - started
    if kind:
        logger.debug("%s on %s failed after %.2fs: %s", endpoint, api_url, elapsed, error_name)
        return Fault(kind, api_url, f"{_DETAILS[kind]}: {error_name}")
    logger.debug(
        "%s on %s answered HTTP %s in %.2fs", endpoint, api_url, response.status_code, elapsed
    )
    excerpt = redact(body[:_EXCERPT_LENGTH].decode("utf-8", "replace"))
    excerpt = excerpt.replace(credentials.password, "********") if credentials.password else excerpt
    if response.status_code != 200:
        return Fault("http", api_url, f"HTTP {response.status_code}", status=response.status_code)
    content_type = response.headers.get("Content-Type", "")
    return Answer(body, api_url, content_type, excerpt)

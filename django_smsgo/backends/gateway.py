"""The real smsgo gateway, through one pooled ``SmsgoClient`` per process.

The client is built from the settings only after they are checked here, so a
misconfigured project is refused with the name of the setting and the fix,
before a send is stored (``services.sending.check_ready()`` builds the backend):

* no account (``USERNAME`` / ``PASSWORD``);
* a gateway URL in plain ``http://``: the password travels in the query string
  of every request, so it would cross the network readable. Refused unless the
  host is this machine (the bundled simulator on loopback) or the project sets
  ``ALLOW_PLAIN_HTTP = True`` (the vendor's backup host speaks only HTTP).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from django_smsgo.backends.base import BaseBackend, SendRequest
from django_smsgo.client import CancelResult, DeliveryStatus, PendingSend, SendResult, SmsgoClient
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import SmsgoConfigurationError

#: The settings that name a gateway host.
GATEWAY_URL_SETTINGS = ("API_URL", "BACKUP_API_URL")

#: Connections kept per host besides those of dispatch (queries, cancels, the balance).
SPARE_CONNECTIONS = 8


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_urls() -> list[tuple[str, str]]:
    """``(setting, url)`` of every gateway URL in plain ``http://`` (loopback ones too)."""
    found = []
    for name in GATEWAY_URL_SETTINGS:
        url = smsgo_settings.user_settings[name]
        if url and urlsplit(str(url)).scheme.lower() == "http":
            found.append((name, str(url)))
    return found


def refused_plain_http_urls() -> list[tuple[str, str]]:
    """The plain-HTTP gateway URLs the backend refuses: off this machine, not allowed."""
    if smsgo_settings.ALLOW_PLAIN_HTTP:
        return []
    return [(name, url) for name, url in plain_http_urls() if not is_loopback(url)]


def check_settings() -> None:
    """Raise ``SmsgoConfigurationError`` naming the setting when the client must not be built."""
    missing = [name for name in ("USERNAME", "PASSWORD") if not smsgo_settings.user_settings[name]]
    if missing:
        names = " and ".join(f"SMSGO[{name!r}]" for name in missing)
        raise SmsgoConfigurationError(
            f"{names} not set: the gateway backend cannot send without the smsgo account. "
            "Set them (read them from the environment), or use "
            "SMSGO['BACKEND'] = 'django_smsgo.backends.console.ConsoleBackend' while developing."
        )
    for name, url in refused_plain_http_urls():
        raise SmsgoConfigurationError(
            f"SMSGO[{name!r}] is {url!r}, plain HTTP: the account password travels in the query "
            "string of every request and would cross the network readable. Use an https:// URL, "
            "or set SMSGO['ALLOW_PLAIN_HTTP'] = True to accept that."
        )


def client_from_settings() -> SmsgoClient:
    """A client configured from ``settings.SMSGO`` (credentials, hosts, timeouts).

    Raises ``SmsgoConfigurationError`` (an ``ImproperlyConfigured``) naming the
    setting when the account is missing or a gateway URL would carry the
    password in clear text.
    """
    check_settings()
    try:
        return SmsgoClient(
            smsgo_settings.USERNAME,
            smsgo_settings.PASSWORD,
            api_url=smsgo_settings.API_URL,
            backup_api_url=smsgo_settings.BACKUP_API_URL,
            connect_timeout=smsgo_settings.CONNECT_TIMEOUT,
            read_timeout=smsgo_settings.READ_TIMEOUT,
            pool_size=int(smsgo_settings.DISPATCH_CONNECTIONS) + SPARE_CONNECTIONS,
        )
    except SmsgoConfigurationError as exc:
        # The client speaks of its own arguments; say which settings they come from.
        raise SmsgoConfigurationError(
            f"SMSGO settings (API_URL, BACKUP_API_URL, CONNECT_TIMEOUT, READ_TIMEOUT): {exc}"
        ) from None


class GatewayBackend(BaseBackend):
    """Sends through the gateway. One client (one keep-alive connection pool) per process.

    The backend is rebuilt when the ``SMSGO`` setting changes (see
    :func:`django_smsgo.backends.get_backend`), so the client always carries
    the current credentials and hosts.
    """

    def __init__(self) -> None:
        self.client = client_from_settings()

    def send(self, request: SendRequest) -> SendResult:
        return self.start_send(request).result()

    def start_send(self, request: SendRequest) -> PendingSend:
        prepared = self.client.validate_send(
            list(request.numbers),
            request.body,
            encoding=request.encoding,
            dlvtime=request.dlvtime,
            wapurl=request.wapurl,
            replyurl=request.replyurl,
            replydays=request.replydays,
            response=request.response,
        )
        return self.client.start_send(prepared)

    def query_bulk(self, pairs: Iterable[tuple[str, str]]) -> list[DeliveryStatus]:
        return self.client.query_bulk(list(pairs))

    def balance(self) -> int:
        return self.client.balance()

    def cancel(self, msgid: str) -> CancelResult:
        return self.client.cancel(msgid)

    def close(self) -> None:
        self.client.close()

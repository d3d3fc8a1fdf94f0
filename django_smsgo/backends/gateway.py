"""The real smsgo gateway, through one pooled ``SmsgoClient`` per process."""

from __future__ import annotations

from collections.abc import Iterable

from django_smsgo.backends.base import BaseBackend, SendRequest
from django_smsgo.client import CancelResult, DeliveryStatus, PendingSend, SendResult, SmsgoClient
from django_smsgo.conf import smsgo_settings

#: Connections kept per host besides those of dispatch (queries, cancels, the balance).
SPARE_CONNECTIONS = 8


def client_from_settings() -> SmsgoClient:
    """A client configured from ``settings.SMSGO`` (credentials, hosts, timeouts)."""
    return SmsgoClient(
        smsgo_settings.USERNAME,
        smsgo_settings.PASSWORD,
        api_url=smsgo_settings.API_URL,
        backup_api_url=smsgo_settings.BACKUP_API_URL,
        connect_timeout=smsgo_settings.CONNECT_TIMEOUT,
        read_timeout=smsgo_settings.READ_TIMEOUT,
        pool_size=int(smsgo_settings.DISPATCH_CONNECTIONS) + SPARE_CONNECTIONS,
    )


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

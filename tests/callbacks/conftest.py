"""Fixtures for the callback tests: rows to report on, a live server and a gateway.

The live server is Django's own ``LiveServerThread``. With the default
in-memory SQLite database every request thread would share one connection
(Django passes it to the server thread), and concurrent requests would then
interleave their transactions; so on SQLite the server answers one request at
a time, and on PostgreSQL it is threaded like pytest-django's ``live_server``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
from django.utils import timezone

from django_smsgo.models import Batch, Message, Recipient
from django_smsgo.services.callback_urls import reply_url, report_url
from django_smsgo.simulator import Account, Simulator, SimulatorConfig
from django_smsgo.testing.factories import BatchFactory, MessageFactory, RecipientFactory

USERNAME = "tester"
PASSWORD = "s3cret-Pa55word"
TOKEN = "test-callback-token-with-enough-entropy"
BASE_URL = "https://sms.example.com"


def smsgo_config(**overrides: Any) -> dict[str, Any]:
    """The ``SMSGO`` setting the callback tests run with."""
    return {
        "USERNAME": USERNAME,
        "PASSWORD": PASSWORD,
        "CALLBACK_TOKEN": TOKEN,
        "CALLBACK_BASE_URL": BASE_URL,
        **overrides,
    }


@pytest.fixture(autouse=True)
def callback_settings(settings: Any) -> Any:
    settings.SMSGO = smsgo_config()
    return settings


def make_batch(
    phones: Sequence[str] = ("0912345678",),
    *,
    state: str = Batch.State.SUBMITTED,
    msgid: str = "100101121234567",
    body: str = "Your code is 123456",
    kind: str = "marketing",
) -> Batch:
    """A message with one batch holding ``phones``; recipients match the batch state."""
    message = MessageFactory(
        body=body,
        status=Message.Status.SUBMITTED
        if state == Batch.State.SUBMITTED
        else Message.Status.SENDING,
        recipient_count=len(phones),
        kind=kind,
    )
    batch = BatchFactory(
        message=message,
        state=state,
        msgid=msgid if state != Batch.State.CLAIMED else "",
        submitted_at=timezone.now() if state == Batch.State.SUBMITTED else None,
    )
    recipient_status: str = Recipient.Status.QUEUED
    if state == Batch.State.SUBMITTED:
        recipient_status = Recipient.Status.SUBMITTED
    elif state == Batch.State.UNCERTAIN:
        recipient_status = Recipient.Status.UNCERTAIN
    for phone in phones:
        RecipientFactory(message=message, phone=phone, batch=batch, status=recipient_status)
    return batch


def path_of(url: str | None) -> str:
    assert url is not None
    return urlsplit(url).path


def report_path(batch: Batch) -> str:
    return path_of(report_url(batch))


def reply_path(batch: Batch) -> str:
    return path_of(reply_url(batch))


# --- live server ------------------------------------------------------------------------------


class _OneAtATimeLiveServerThread(LiveServerThread):
    """A live server answering one request at a time (for a shared SQLite connection)."""

    def _create_server(self, connections_override: Any = None) -> WSGIServer:
        return WSGIServer(
            (self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False
        )


@contextmanager
def running_server() -> Iterator[str]:
    """Serve the project on loopback with the current settings; yield its origin."""
    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()  # type: ignore[attr-defined]
    }
    thread_class = _OneAtATimeLiveServerThread if shared else LiveServerThread
    thread = thread_class("127.0.0.1", StaticFilesHandler, connections_override=shared, port=0)
    thread.daemon = True
    for conn in shared.values():
        conn.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()
        for conn in shared.values():
            conn.dec_thread_sharing()


@pytest.fixture
def callback_server(transactional_db: None, settings: Any) -> Iterator[str]:
    """A live server whose origin is ``CALLBACK_BASE_URL``, so report URLs point at it."""
    with running_server() as origin:
        settings.SMSGO = smsgo_config(CALLBACK_BASE_URL=origin)
        yield origin


# --- gateway ----------------------------------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[Simulator]:
    """The bundled gateway simulator: instant delivery, quick Phase-Two retries."""
    config = SimulatorConfig(delivery_delay=0.0, callback_retry_delay=0.05, callback_timeout=10.0)
    with Simulator(accounts=[Account(USERNAME, PASSWORD, 10_000)], config=config) as simulator:
        yield simulator


def send_batch(
    gateway: Simulator,
    batch: Batch,
    *,
    with_reply_url: bool = False,
    store_msgid: bool = True,
) -> str:
    """Send ``batch`` through the gateway over HTTP, with its report (and reply) URL.

    Stores the msgid and marks the batch submitted unless ``store_msgid`` is
    false (an answer not stored yet). Returns the msgid.
    """
    phones = list(batch.recipients.values_list("phone", flat=True))
    params = {
        "username": USERNAME,
        "password": PASSWORD,
        "dstaddr": ",".join(phones),
        "encoding": "ASCII",
        "smbody": batch.message.body,
        "response": report_url(batch) or "",
    }
    if with_reply_url:
        params["replyurl"] = reply_url(batch) or ""
    answer = requests.get(gateway.base_url + "sendsms.aspx", params=params, timeout=10)
    fields = dict(
        line.split("=", 1) for line in answer.text.replace("\r", "").split("\n") if "=" in line
    )
    assert fields["statuscode"].strip() == "0", answer.text
    msgid = fields["msgid"].strip()
    if store_msgid:
        mark_submitted(batch, msgid)
    return msgid


def mark_submitted(batch: Batch, msgid: str) -> None:
    """What dispatch does once the gateway accepted a batch."""
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        msgid=msgid, state=Batch.State.SUBMITTED, submitted_at=now
    )
    batch.recipients.filter(status=Recipient.Status.QUEUED).update(
        status=Recipient.Status.SUBMITTED, submitted_at=now
    )
    Message.objects.filter(pk=batch.message_id).update(status=Message.Status.SUBMITTED)
    batch.refresh_from_db()


def wait_for_callbacks(gateway: Simulator) -> None:
    assert gateway.wait_for_callbacks(timeout=30), "the gateway's callbacks did not finish"


@pytest.fixture
def signal_log() -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """Record every ``delivery_report_received`` / ``reply_received``; call with a name."""
    from django_smsgo.signals import delivery_report_received, reply_received

    received: dict[str, list[dict[str, Any]]] = {"report": [], "reply": []}
    lock = threading.Lock()

    def on_report(**kwargs: Any) -> None:
        with lock:
            received["report"].append(kwargs)

    def on_reply(**kwargs: Any) -> None:
        with lock:
            received["reply"].append(kwargs)

    delivery_report_received.connect(on_report, weak=False)
    reply_received.connect(on_reply, weak=False)
    try:
        yield lambda name: list(received[name])
    finally:
        delivery_report_received.disconnect(on_report)
        reply_received.disconnect(on_reply)

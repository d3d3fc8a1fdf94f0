"""How a stored message reaches dispatch: Celery workers, or this very process.

``SMSGO["DISPATCH"]`` chooses:

``"celery"``
    One task per message (up to ``DISPATCH_TASKS`` for a large one) on its
    priority's queue, run by the project's Celery workers: the way to scale
    out over many hosts. The tasks are wired in by the app's ``ready()`` when
    Celery can be imported (:mod:`django_smsgo.tasks`).
``"inline"``
    Dispatched here, right after the transaction that stored the message
    commits, by the very same claim / send / record code. No broker; the
    ``smsgo_jobs`` management command (cron or a process manager) runs the
    sweeper, which also runs the retries, polling and the balance refresh.
``"auto"`` (the default)
    ``"celery"`` when Celery is installed, else ``"inline"``.

The services call :func:`dispatch_on_commit` and never import Celery: data
flows one way, and small sites need no broker at all.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from typing import Protocol

from django.db import transaction

from django_smsgo.client.numbers import MAX_NUMBERS_PER_REQUEST
from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import SmsgoConfigurationError
from django_smsgo.models import Message

logger = logging.getLogger(__name__)

MODES = ("auto", "celery", "inline")


class Dispatcher(Protocol):
    """Something that gets a stored message dispatched."""

    def enqueue(self, message: Message, *, tasks: int) -> None:
        """Have ``message`` dispatched by ``tasks`` concurrent runs (at least one)."""


class InlineDispatcher:
    """Dispatches in this process, at once (the caller has committed the message)."""

    def enqueue(self, message: Message, *, tasks: int) -> None:
        from django_smsgo.services.dispatch import dispatch_message

        try:
            dispatch_message(message.pk)
        except Exception:
            # The message is stored and every claim is settled or leased: the
            # sweeper picks it up again. The caller stored it; it must not see
            # an error for a send that will still go out.
            logger.exception("Dispatch of message %s failed; the sweeper will retry.", message.pk)


_celery: Dispatcher | None = None


def install_celery(dispatcher: Dispatcher) -> None:
    """Use ``dispatcher`` in ``celery`` mode (called by the app's ``ready()``)."""
    global _celery
    _celery = dispatcher


def celery_installed() -> bool:
    """Whether the ``celery`` package can be imported."""
    return importlib.util.find_spec("celery") is not None


def mode() -> str:
    """The dispatch mode in effect: ``celery`` or ``inline`` (``auto`` resolved)."""
    configured = smsgo_settings.DISPATCH
    if configured not in MODES:
        raise SmsgoConfigurationError(
            f"SMSGO['DISPATCH'] is {configured!r}; use one of {', '.join(map(repr, MODES))}."
        )
    if configured == "auto":
        return "celery" if _celery is not None else "inline"
    return str(configured)


def current() -> Dispatcher:
    """The dispatcher of :func:`mode`; raises ``SmsgoConfigurationError`` when it cannot work."""
    if mode() == "inline":
        return InlineDispatcher()
    if _celery is None:
        raise SmsgoConfigurationError(
            "SMSGO['DISPATCH'] is 'celery' but Celery is not installed (or its tasks could not "
            'be loaded): pip install "django-smsgo[celery]", or set SMSGO["DISPATCH"] = "inline" '
            "to send from this process without a broker."
        )
    return _celery


def check_ready() -> None:
    """Raise ``SmsgoConfigurationError`` when a stored message could not be dispatched."""
    current()


def dispatch_on_commit(message: Message) -> None:
    """Have ``message`` dispatched once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(message))


def enqueue(message: Message) -> None:
    """Have ``message`` dispatched now, by as many runs as ``DISPATCH_TASKS`` allows."""
    batches = max(1, math.ceil(message.recipient_count / MAX_NUMBERS_PER_REQUEST))
    tasks = max(1, min(int(smsgo_settings.DISPATCH_TASKS), batches))
    current().enqueue(message, tasks=tasks)

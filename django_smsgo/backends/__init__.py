"""Where SMS go: the real gateway, the console, or an in-memory outbox.

``SMSGO['BACKEND']`` names the class; :func:`get_backend` returns the
process-wide instance, rebuilt when the ``SMSGO`` setting changes. Dispatch,
polling, cancelling and the balance service talk to the backend, never to
``SmsgoClient`` directly, so a project's own test suite can swap the gateway
for ``LocmemBackend`` and needs no server.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from django_smsgo.backends.base import BaseBackend, SendRequest
from django_smsgo.conf import smsgo_settings

__all__ = ["BaseBackend", "SendRequest", "get_backend", "reset_backend"]

_lock = threading.Lock()
_backend: BaseBackend | None = None


def get_backend() -> BaseBackend:
    """The configured backend, built once per process (and per settings change)."""
    global _backend
    with _lock:
        if _backend is None:
            backend_class = import_string(smsgo_settings.BACKEND)
            _backend = backend_class()
        return _backend


def reset_backend() -> None:
    """Drop the process-wide backend (its connections are closed); the next call builds one."""
    global _backend
    with _lock:
        backend, _backend = _backend, None
    if backend is not None:
        backend.close()


@receiver(setting_changed)
def _reset_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "SMSGO":
        reset_backend()

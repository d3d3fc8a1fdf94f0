"""pytest fixtures for a project's tests: the locmem outbox and the gateway simulator.

``pytest_plugins = ["django_smsgo.testing.pytest_plugin"]`` in the top-level
``conftest.py`` gives:

``smsgo_outbox``
    Sends go to the locmem backend for the test; the fixture is the (emptied)
    outbox: ``smsgo_outbox[0].numbers``, ``.body``. Needs pytest-django.
``smsgo_simulator``, ``smsgo_simulator_factory``…
    The bundled gateway simulator on a free loopback port
    (:mod:`django_smsgo.simulator.pytest_plugin`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import django_smsgo

pytest_plugins = ["django_smsgo.simulator.pytest_plugin"]

LOCMEM_BACKEND = "django_smsgo.backends.locmem.LocmemBackend"


@pytest.fixture
def smsgo_outbox(settings: Any) -> Iterator[list[Any]]:
    """The locmem backend's outbox, empty at the start; SMS sent in the test land in it."""
    settings.SMSGO = {**getattr(settings, "SMSGO", {}), "BACKEND": LOCMEM_BACKEND}
    django_smsgo.outbox.clear()
    yield django_smsgo.outbox
    django_smsgo.outbox.clear()

"""Fixtures for the core tests: the simulator as the gateway, eager Celery unless a worker runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_smsgo.simulator.instance import Simulator
from django_smsgo.simulator.pytest_plugin import smsgo_simulator as smsgo_simulator
from django_smsgo.simulator.pytest_plugin import (  # noqa: F401 - fixtures
    smsgo_simulator_accounts,
    smsgo_simulator_config,
    smsgo_simulator_factory,
)
from tests.celery_app import app as celery_app


@pytest.fixture(autouse=True)
def eager_celery(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run tasks in-process, except in tests that start a real worker."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def smsgo_config(settings: Any) -> dict[str, Any]:
    """The ``SMSGO`` settings of the test project (change keys through ``configure``)."""
    return dict(settings.SMSGO)


@pytest.fixture
def configure(settings: Any) -> Any:
    """``configure(KEY=value, ...)`` updates ``settings.SMSGO`` (restored after the test)."""

    def update(**values: Any) -> None:
        settings.SMSGO = {**settings.SMSGO, **values}

    return update


@pytest.fixture
def gateway(smsgo_simulator: Simulator, configure: Any) -> Simulator:
    """The simulator configured as the only gateway host (no backup, no callbacks)."""
    configure(API_URL=smsgo_simulator.base_url, BACKUP_API_URL=None, CALLBACK_BASE_URL=None)
    return smsgo_simulator


def send_requests(simulator: Simulator) -> list[dict[str, Any]]:
    """The send requests the simulator received, oldest first."""
    return [r for r in simulator.requests if r["endpoint"] == "sendsms.aspx"]

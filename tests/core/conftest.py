"""Fixtures for the core tests: the simulator as the gateway."""

from __future__ import annotations

from typing import Any

import pytest

from django_smsgo.simulator.instance import Simulator


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

"""Fixtures for the core tests: the simulator as the gateway."""

from __future__ import annotations

from typing import Any

import pytest

from django_smsgo.simulator.instance import Simulator


@pytest.fixture
def smsgo_config(settings: Any) -> dict[str, Any]:
    """The ``SMSGO`` settings of the test project (change keys through ``configure``)."""
    return dict(settings.SMSGO)


def send_requests(simulator: Simulator) -> list[dict[str, Any]]:
    """The send requests the simulator received, oldest first."""
    return [r for r in simulator.requests if r["endpoint"] == "sendsms.aspx"]

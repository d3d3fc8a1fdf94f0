"""Fixtures for the integration tests: the simulator as the gateway, texts read off it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from django_smsgo.simulator.instance import Simulator


@pytest.fixture
def sms_gateway(gateway: Simulator) -> Simulator:
    """The simulator as the project's gateway."""
    return gateway


def texts(simulator: Simulator) -> list[tuple[list[str], str]]:
    """(receivers, text) of every SMS the gateway accepted, oldest first."""
    return [(list(m.receivers), m.body) for m in simulator.state.messages.values()]


def token_in(body: str, digits: int = 6) -> str:
    found = re.search(rf"\b\d{{{digits}}}\b", body)
    assert found, body
    return found.group()


@pytest.fixture
def sender_tag(configure: Callable[..., None]) -> str:
    configure(OTP_SENDER_TAG="Shop")
    return "【Shop】"

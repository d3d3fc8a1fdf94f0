"""Fixtures for the code service: the simulator as the gateway, a code read off the SMS."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from django_smsgo.simulator.instance import Simulator


@pytest.fixture
def code_gateway(gateway: Simulator, configure: Callable[..., None]) -> Simulator:
    """The simulator as the gateway, with the code limits out of the way unless a test sets them."""
    configure(
        OTP_NUMBER_CAPS=[],
        OTP_KEY_CAPS=[],
        OTP_GLOBAL_CAPS=[],
        OTP_COOLDOWN=60,
        OTP_SENDER_TAG="Shop",
    )
    return gateway


def sms_bodies(simulator: Simulator) -> list[str]:
    """The texts the gateway accepted, oldest first."""
    return [m.body for m in simulator.state.messages.values()]


def code_in(body: str) -> str:
    """The code a code SMS carries (the first run of 6 digits)."""
    found = re.search(r"\b\d{6}\b", body)
    assert found, body
    return found.group()


@pytest.fixture
def refusals() -> Iterator[list[dict[str, Any]]]:
    """Every ``code_send_refused`` signal sent during the test."""
    from django_smsgo.codes.signals import code_send_refused

    seen: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        seen.append(kwargs)

    code_send_refused.connect(receiver, weak=False)
    yield seen
    code_send_refused.disconnect(receiver)

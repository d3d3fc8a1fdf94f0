"""pytest fixtures: a simulated smsgo gateway on a free loopback port, per test.

Enable with ``pytest_plugins = ["django_smsgo.simulator.pytest_plugin"]`` in the
top-level ``conftest.py``. Then::

    def test_send(smsgo_simulator):
        settings.SMSGO = {..., "API_URL": smsgo_simulator.base_url}
        ...
        assert smsgo_simulator.messages[0].body == "Hello"

Deliveries finish at once (delivery delay 0) and Phase-Two re-tries do not
wait; override ``smsgo_simulator_config`` or ``smsgo_simulator_accounts`` in a
``conftest.py`` to change that.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from .instance import Simulator
from .records import Account, SimulatorConfig

DEFAULT_POINTS = 10_000
FALLBACK_ACCOUNT = ("tester", "tester-password")


def _project_credentials() -> tuple[str, str] | None:
    """``SMSGO["USERNAME"]``/``["PASSWORD"]`` of the Django project under test, if any."""
    try:
        from django.conf import settings
    except ImportError:
        return None
    if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
        return None
    configured = getattr(settings, "SMSGO", {}) or {}
    username, password = configured.get("USERNAME"), configured.get("PASSWORD")
    return (username, password) if username and password else None


@pytest.fixture
def smsgo_simulator_accounts() -> list[Account]:
    """The accounts the simulator starts with: the project's SMSGO credentials
    (or ``tester``/``tester-password``) with 10,000 points."""
    username, password = _project_credentials() or FALLBACK_ACCOUNT
    return [Account(username, password, DEFAULT_POINTS)]


@pytest.fixture
def smsgo_simulator_config() -> SimulatorConfig:
    """Settings for tests: final states at once, re-tries without waiting."""
    return SimulatorConfig(delivery_delay=0.0, callback_retry_delay=0.0, callback_timeout=5.0)


@pytest.fixture
def smsgo_simulator_factory(
    smsgo_simulator_accounts: list[Account], smsgo_simulator_config: SimulatorConfig
) -> Iterator[Callable[..., Simulator]]:
    """Start more simulators (e.g. a backup host); each is stopped after the test."""
    started: list[Simulator] = []

    def start(
        accounts: list[Account] | None = None, config: SimulatorConfig | None = None
    ) -> Simulator:
        simulator = Simulator(
            accounts if accounts is not None else smsgo_simulator_accounts,
            config or SimulatorConfig(**smsgo_simulator_config.public()),
        ).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def smsgo_simulator(smsgo_simulator_factory: Callable[..., Simulator]) -> Simulator:
    """A running simulator: ``.base_url`` (ends in ``/sms_gw/``), ``.state``, helpers."""
    return smsgo_simulator_factory()

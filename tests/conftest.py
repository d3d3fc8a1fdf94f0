"""Fixtures for the whole suite: the gateway simulator, SMSGO settings, Celery in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery._state import _set_task_join_will_block

from django_smsgo.simulator.instance import Simulator
from tests.celery_app import app as celery_app

pytest_plugins = ["django_smsgo.testing.pytest_plugin"]


@pytest.fixture(autouse=True)
def eager_celery(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run tasks in-process, except in tests that start a real worker."""
    if request.node.get_closest_marker("worker") or request.node.get_closest_marker("reliability"):
        yield
        return
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved
    # Eager tasks run in several threads at once can leave Celery's global
    # "inside a task" flag set (it is saved and restored without a lock), and
    # every later .get() would then refuse to run.
    _set_task_join_will_block(False)


@pytest.fixture
def configure(settings: Any) -> Callable[..., None]:
    """``configure(KEY=value, ...)`` updates ``settings.SMSGO`` (restored after the test)."""

    def update(**values: Any) -> None:
        settings.SMSGO = {**settings.SMSGO, **values}

    return update


@pytest.fixture
def gateway(smsgo_simulator: Simulator, configure: Callable[..., None]) -> Simulator:
    """The simulator as the project's only gateway host (no backup, no callbacks)."""
    configure(API_URL=smsgo_simulator.base_url, BACKUP_API_URL=None, CALLBACK_BASE_URL=None)
    return smsgo_simulator

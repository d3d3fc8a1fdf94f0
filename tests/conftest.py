"""Fixtures for the whole suite: the gateway simulator, and Celery run in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.celery_app import app as celery_app

pytest_plugins = ["django_smsgo.simulator.pytest_plugin"]


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

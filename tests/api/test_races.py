"""The send endpoint under concurrent requests and hostile bodies, over real HTTP.

``live_server`` is a threaded server in this process; each request has its own
database connection, as under gunicorn.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.db import connection

from django_smsgo.models import Message
from django_smsgo.simulator.instance import Simulator
from tests.core.conftest import send_requests

pytestmark = [
    pytest.mark.urls("tests.api.urls"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite" and not os.environ.get("SQLITE_TEST_FILE"),
        reason="concurrent requests need a database that makes them wait (PostgreSQL, a file)",
    ),
]

PASSWORD = "pw-not-secret"


@pytest.fixture(autouse=True)
def _dispatch_in_process(configure: Any) -> None:
    # Celery's eager mode is not thread-safe (a global "inside a task" flag).
    configure(DISPATCH="inline")


def _url(live_server: Any) -> str:
    return f"{live_server.url}/smsgo/api/messages/"


def test_one_key_sent_twenty_times_at_once_gives_one_201(
    live_server: Any, make_user: Any, gateway: Simulator
) -> None:
    user = make_user("send_sms", username="racer")
    payload = {"to": ["0912000921"], "body": "Order 88 shipped"}

    def post(_: int) -> requests.Response:
        return requests.post(
            _url(live_server),
            json=payload,
            headers={"Idempotency-Key": "order-88"},
            auth=(user.username, PASSWORD),
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 19 + [201], [a.text[:200] for a in answers if a.status_code >= 400]
    assert {a.json()["id"] for a in answers} == {Message.objects.get().pk}
    assert len(send_requests(gateway)) == 1

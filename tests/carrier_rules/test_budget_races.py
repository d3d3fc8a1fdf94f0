"""Concurrent sends cannot both take the last points of a cap (PostgreSQL, SQLite in a file).

``test_budget_races_on_sqlite.py`` runs this module again on a SQLite file,
since an in-memory SQLite database cannot make connections wait.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from django_smsgo.models import Message
from django_smsgo.services.carrier_rules import PointsBudgetError
from django_smsgo.services.sending import send_sms
from django_smsgo.simulator.instance import Simulator
from tests.core.test_races import race

IN_MEMORY = connection.vendor == "sqlite" and not os.environ.get("SQLITE_TEST_FILE")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        IN_MEMORY,
        reason="runs on a SQLite file: tests/carrier_rules/test_budget_races_on_sqlite.py",
    ),
]

CALLERS = 16 if connection.vendor == "sqlite" else 40
CAP = 5


def test_concurrent_sends_stop_exactly_at_the_cap(
    gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(POINTS_BUDGET={"marketing": {"day": CAP}})
    counter = iter(range(CALLERS))
    lock = threading.Lock()

    def send() -> Any:
        with lock:
            n = next(counter)
        return send_sms(f"09120{n:05d}", f"Sale {n}")  # different texts: no other lock

    results = race(CALLERS, send)
    sent = [r for r in results if isinstance(r, Message)]
    refused = [r for r in results if isinstance(r, PointsBudgetError)]
    assert len(sent) == CAP, results
    assert len(refused) == CALLERS - CAP, [r for r in results if not isinstance(r, Message)]
    assert Message.objects.count() == CAP

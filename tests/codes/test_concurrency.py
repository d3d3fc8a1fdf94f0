"""Concurrent requests cannot both pass a limit: real connections racing on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import F

from django_smsgo.codes import send_otp
from django_smsgo.codes.errors import CodeRefused
from django_smsgo.codes.models import CodeCooldown, OneTimeCode
from django_smsgo.models import Message
from django_smsgo.simulator.instance import Simulator

THREADS = 40

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite's in-memory test database cannot be written from several threads; "
        "benchmarks/bench_codes.py races on a SQLite file. Run with DATABASE_URL=postgres://…",
    ),
]


def race(calls: list[Callable[[], None]]) -> tuple[int, dict[str, int], list[BaseException]]:
    """Run ``calls`` at the same instant, one thread and connection each; count the outcomes."""
    start = threading.Barrier(len(calls))
    lock = threading.Lock()
    sent = 0
    refused: dict[str, int] = {}
    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        nonlocal sent
        try:
            start.wait()
            call()
            with lock:
                sent += 1
        except CodeRefused as refusal:
            with lock:
                refused[refusal.reason] = refused.get(refusal.reason, 0) + 1
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent, refused, errors


def test_concurrent_requests_for_one_number_send_one_sms(
    transactional_db: None, code_gateway: Simulator
) -> None:
    # A number that got a code before: its cooldown row exists (a first send
    # would be ordered by the row's creation alone) and has run out.
    send_otp("0912345678")
    CodeCooldown.objects.update(last_sent_at=F("last_sent_at") - timedelta(seconds=61))
    sent, refused, errors = race([lambda: send_otp("0912345678")] * THREADS)
    assert errors == []
    assert (sent, refused) == (1, {"cooldown": THREADS - 1})
    assert Message.objects.count() == OneTimeCode.objects.count() == 2
    assert len(code_gateway.state.messages) == 2


def test_concurrent_requests_from_one_key_stop_at_its_cap(
    transactional_db: None, code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_KEY_CAPS=[(5, 3600)])
    send_otp("0922000000", key="203.0.113.9")  # the key's counter exists: 1 of 5 used
    calls = [(lambda n=n: send_otp(f"0912{n:06d}", key="203.0.113.9")) for n in range(THREADS)]
    sent, refused, errors = race(calls)
    assert errors == []
    assert (sent, refused) == (4, {"cap": THREADS - 4})
    assert len(code_gateway.state.messages) == 5

"""Management commands smsgo_send, smsgo_balance, smsgo_poll, and the balance service."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_smsgo.models import BalanceSnapshot, Message
from django_smsgo.signals import balance_low
from django_smsgo.simulator.instance import Simulator
from tests.core.conftest import send_requests

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_segments_and_points_and_sends_nothing(gateway: Simulator) -> None:
    output = run("smsgo_send", "0912345678", "0912345679", "-m", "x" * 200, "--dry-run")
    assert "Encoding: LASCI" in output
    assert "Segments per recipient: 2" in output
    assert "Estimated points: 4" in output
    assert "Gateway requests: 1" in output
    assert not Message.objects.exists()
    assert gateway.requests == []


def test_send_numbers_from_a_csv_file(gateway: Simulator, tmp_path: Path) -> None:
    csv_file = tmp_path / "customers.csv"
    rows = ["name,mobile"] + [f"c{n},0912-{n:03d}-000" for n in range(60)]
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    output = run("smsgo_send", "--csv", str(csv_file), "--column", "mobile", "-m", "Hello")
    message = Message.objects.get()
    assert message.recipient_count == 60
    assert len(send_requests(gateway)) == 2
    assert "[########################################] 60/60" in output
    assert f"Message {message.pk} is submitted" in output


def test_send_reports_validation_errors_as_command_errors(gateway: Simulator) -> None:
    with pytest.raises(CommandError, match="12345"):
        run("smsgo_send", "12345", "0912345678", "-m", "Hello")
    with pytest.raises(CommandError, match="time zone"):
        run("smsgo_send", "0912345678", "-m", "Hi", "--send-at", "2031-01-01T09:00")
    with pytest.raises(CommandError, match="No numbers"):
        run("smsgo_send", "-m", "Hello")
    assert not Message.objects.exists()


def test_balance_command_stores_a_snapshot(gateway: Simulator) -> None:
    output = run("smsgo_balance")
    assert output.startswith("10000 points")
    assert BalanceSnapshot.objects.get().points == 10_000
    assert run("smsgo_balance", "--cached").startswith("10000 points")
    assert len(gateway.requests) == 1


def test_low_balance_sends_the_signal(gateway: Simulator, configure: Any) -> None:
    configure(LOW_BALANCE_THRESHOLD=20_000)
    seen: list[tuple[int, int]] = []

    def record(points: int, threshold: int, **kwargs: Any) -> None:
        seen.append((points, threshold))

    balance_low.connect(record)
    try:
        from django_smsgo.tasks import refresh_balance

        assert refresh_balance.apply().get() == 10_000
    finally:
        balance_low.disconnect(record)
    assert seen == [(10_000, 20_000)]


def test_poll_command(gateway: Simulator) -> None:
    from django_smsgo.services.sending import send_sms

    send_sms(["0912345600", "0912345601"], "Hi")
    output = run("smsgo_poll", "--min-age", "0")
    assert "Asked about 2 recipient(s) in 1 request(s); 2 changed" in output

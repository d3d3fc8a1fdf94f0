"""Round trips: the bundled gateway simulator calls a live server over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from django_smsgo.models import Batch, DeliveryReport, Message, Recipient, Reply, Suppression
from django_smsgo.services.reports import apply_pending_reports
from django_smsgo.simulator import Simulator

from . import middleware
from .conftest import make_batch, mark_submitted, running_server, send_batch, smsgo_config
from .conftest import wait_for_callbacks as finish

PHONES = ["0912345678", "0987654321", "0911222333"]


def acknowledged_attempts(gateway: Simulator) -> list[dict[str, Any]]:
    return [c for c in gateway.callbacks if c["acknowledged"]]


def test_send_report_stored_status(
    callback_server: str,
    gateway: Simulator,
    signal_log: Callable[[str], list[dict[str, Any]]],
) -> None:
    gateway.set_outcome("0987654321", "UNDELIV")
    gateway.set_outcome("0911222333", "ACCEPTD")
    batch = make_batch(PHONES, state=Batch.State.CLAIMED)
    msgid = send_batch(gateway, batch)
    finish(gateway)

    statuses = dict(Recipient.objects.values_list("phone", "status"))
    assert statuses == {"0912345678": "delivered", "0987654321": "failed", "0911222333": "failed"}
    assert dict(Recipient.objects.values_list("phone", "gateway_status")) == {
        "0912345678": "DELIVRD",
        "0987654321": "UNDELIV",
        "0911222333": "ACCEPTD",
    }
    assert Message.objects.get().status == Message.Status.COMPLETED
    assert set(DeliveryReport.objects.values_list("msgid", flat=True)) == {msgid}
    # Each report acknowledged at the first attempt, each change announced once.
    assert len(gateway.callbacks) == 3
    assert len(acknowledged_attempts(gateway)) == 3
    assert len(signal_log("report")) == 3


def test_report_without_dstaddr_settles_a_one_number_batch(
    callback_server: str, gateway: Simulator
) -> None:
    gateway.state.config.include_dstaddr = False
    batch = make_batch(["0912345678"], state=Batch.State.CLAIMED)
    send_batch(gateway, batch)
    finish(gateway)
    assert Recipient.objects.get().status == Recipient.Status.DELIVERED
    assert "dstaddr" not in DeliveryReport.objects.get().raw


def test_report_without_dstaddr_for_several_numbers_is_left_to_polling(
    callback_server: str, gateway: Simulator
) -> None:
    gateway.state.config.include_dstaddr = False
    batch = make_batch(PHONES[:2], state=Batch.State.CLAIMED)
    send_batch(gateway, batch)
    finish(gateway)
    assert len(acknowledged_attempts(gateway)) == 2  # kept and acknowledged
    outcomes = list(DeliveryReport.objects.values_list("outcome", flat=True))
    assert outcomes == ["unresolved", "unresolved"]
    assert set(Recipient.objects.values_list("status", flat=True)) == {"submitted"}


def test_report_before_the_msgid_is_stored_is_kept_then_applied(
    callback_server: str, gateway: Simulator
) -> None:
    batch = make_batch(["0912345678"], state=Batch.State.CLAIMED)
    msgid = send_batch(gateway, batch, store_msgid=False)  # our answer not committed yet
    finish(gateway)
    assert len(acknowledged_attempts(gateway)) == 1  # acknowledged, not lost
    assert DeliveryReport.objects.get().outcome == DeliveryReport.Outcome.PENDING
    assert Recipient.objects.get().status == Recipient.Status.QUEUED

    mark_submitted(batch, msgid)
    assert apply_pending_reports(batch) == 1
    assert Recipient.objects.get().status == Recipient.Status.DELIVERED


@pytest.fixture
def garbling_server(transactional_db: None, settings: Any) -> Iterator[str]:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.callbacks.middleware.GarbleFirstAnswer"]
    middleware.reset()
    with running_server() as origin:
        settings.SMSGO = smsgo_config(CALLBACK_BASE_URL=origin)
        yield origin


def test_wrong_acknowledgement_makes_the_gateway_retry_and_changes_once(
    garbling_server: str,
    gateway: Simulator,
    signal_log: Callable[[str], list[dict[str, Any]]],
) -> None:
    batch = make_batch(PHONES, state=Batch.State.CLAIMED)
    send_batch(gateway, batch)
    finish(gateway)

    attempts = gateway.callbacks
    assert len(attempts) == 6  # every report: refused once, then acknowledged
    assert [c["attempt"] for c in attempts if c["acknowledged"]] == [2, 2, 2]
    assert set(Recipient.objects.values_list("status", flat=True)) == {"delivered"}
    outcomes = sorted(DeliveryReport.objects.values_list("outcome", flat=True))
    assert outcomes == ["applied"] * 3 + ["duplicate"] * 3
    assert len(signal_log("report")) == 3


def test_four_deliveries_of_one_report_record_one_change(
    callback_server: str,
    gateway: Simulator,
    signal_log: Callable[[str], list[dict[str, Any]]],
) -> None:
    batch = make_batch(["0912345678"], state=Batch.State.CLAIMED)
    msgid = send_batch(gateway, batch)
    finish(gateway)
    # The gateway's three re-tries of the same report, as it would send them.
    url = gateway.callbacks[0]["url"]
    for _ in range(3):
        answer = requests.get(url, timeout=10)
        assert answer.text == f"magicid=tccrd_sms_gateway_rpack\nmsgid={msgid}\n"
    outcomes = list(DeliveryReport.objects.values_list("outcome", flat=True))
    assert outcomes == ["applied", "duplicate", "duplicate", "duplicate"]
    assert len(signal_log("report")) == 1


def test_reversed_order_final_then_older_non_final(
    callback_server: str, gateway: Simulator
) -> None:
    batch = make_batch(["0912345678"], state=Batch.State.CLAIMED)
    send_batch(gateway, batch)
    finish(gateway)
    final_url = gateway.callbacks[0]["url"]
    # An older non-final report arriving late changes nothing.
    older = final_url.replace("statusstr=DELIVRD", "statusstr=ENROUTE")
    assert requests.get(older, timeout=10).status_code == 200
    row = Recipient.objects.get()
    assert row.status == Recipient.Status.DELIVERED
    assert row.gateway_status == "DELIVRD"
    outcomes = list(DeliveryReport.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [DeliveryReport.Outcome.APPLIED, DeliveryReport.Outcome.STALE]


def test_reply_round_trip_with_opt_out(
    callback_server: str,
    gateway: Simulator,
    signal_log: Callable[[str], list[dict[str, Any]]],
) -> None:
    batch = make_batch(PHONES[:2], state=Batch.State.CLAIMED)
    msgid = send_batch(gateway, batch, with_reply_url=True)
    finish(gateway)
    gateway.reply(msgid, "0912345678", "好的，謝謝")
    gateway.reply(msgid, "0987654321", "退訂")
    finish(gateway)

    assert [r["http_status"] for r in gateway.replies] == [200, 200]
    thanks = Reply.objects.get(from_phone="0912345678")
    assert thanks.body == "好的，謝謝"
    assert thanks.msgid == msgid
    assert thanks.message_id == batch.message_id
    assert thanks.recipient == Recipient.objects.get(phone="0912345678")
    assert thanks.encoding in {"UCS2", "BIG5"}
    # The gateway's local time (Taipei, UTC+8) became an aware datetime.
    local = datetime.strptime(thanks.raw["timestamp"], "%Y/%m/%d %H:%M:%S")
    assert thanks.sent_at is not None
    assert thanks.sent_at.astimezone(UTC).replace(tzinfo=None) == local - timedelta(hours=8)
    assert thanks.raw["smbody"] == "好的，謝謝"
    assert not thanks.is_opt_out

    stop = Reply.objects.get(from_phone="0987654321")
    assert stop.is_opt_out
    assert Suppression.objects.get().phone == "0987654321"
    assert Suppression.objects.get().reason == Suppression.Reason.OPT_OUT
    assert len(signal_log("reply")) == 2

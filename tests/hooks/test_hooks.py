"""pre_send may change or cancel a send; post_send tells the outcome; metadata and tags travel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from django_smsgo import send_mass_sms, send_sms
from django_smsgo.events import EventType, OutgoingSms, SmsEvent
from django_smsgo.exceptions import InvalidNumberError, SmsgoCancelSend, SmsgoValidationError
from django_smsgo.models import Message
from django_smsgo.services.sending import create_draft
from django_smsgo.signals import (
    delivery_report_received,
    message_failed,
    message_submitted,
    post_send,
    pre_send,
    reply_received,
)
from django_smsgo.simulator.instance import Simulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def connect() -> Iterator[Callable[..., list[dict[str, Any]]]]:
    """``connect(signal, receiver=None)``: every call's arguments, receivers removed after."""
    connected: list[tuple[Any, Any]] = []

    def attach(signal: Any, receiver: Callable[..., Any] | None = None) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []

        def record(**kwargs: Any) -> None:
            seen.append(kwargs)
            if receiver is not None:
                receiver(**kwargs)

        signal.connect(record, weak=False)
        connected.append((signal, record))
        return seen

    yield attach
    for signal, record in connected:
        signal.disconnect(record)


def test_metadata_and_tags_are_stored(gateway: Simulator) -> None:
    message = send_sms(
        "0912345678", "Hi", metadata={"order": 42, "shop": "台北"}, tags=["order", "order", "tw"]
    )
    message.refresh_from_db()
    assert message.metadata == {"order": 42, "shop": "台北"}
    assert message.tags == ["order", "tw"]  # repeats dropped, order kept
    assert list(Message.objects.tagged("tw")) == [message]
    assert not Message.objects.tagged("or").exists()  # whole tags only
    assert list(Message.objects.filter(metadata__order=42)) == [message]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"metadata": ["not", "an", "object"]}, "JSON object"),
        ({"metadata": {1: "x"}}, "JSON object"),
        ({"metadata": {"when": object()}}, "JSON values"),
        ({"metadata": {"x": "a\x00b"}}, "NUL"),
        ({"metadata": {"x": "y" * 9000}}, "8192 bytes"),
        ({"tags": "one"}, "list of strings"),
        ({"tags": [""]}, "non-empty"),
        ({"tags": ["x" * 65]}, "64 characters"),
        ({"tags": [f"t{n}" for n in range(21)]}, "20 tags"),
    ],
)
def test_bad_metadata_or_tags_are_refused_before_anything_is_stored(
    gateway: Simulator, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(SmsgoValidationError, match=named):
        send_sms("0912345678", "Hi", **options)
    assert not Message.objects.exists()


def test_a_pre_send_receiver_may_change_the_send(
    gateway: Simulator, connect: Callable[..., list[dict[str, Any]]]
) -> None:
    def rewrite(sms: OutgoingSms, **kwargs: Any) -> None:
        sms.body = sms.body + " (test)"
        sms.numbers.append("0912345679")
        sms.tags.append("rewritten")
        sms.options["kind"] = "transactional"

    seen = connect(pre_send, rewrite)
    message = send_sms("0912345678", "Hi", tags=["a"])
    assert seen[0]["sms"].metadata == {}
    assert message.body == "Hi (test)"
    assert message.kind == "transactional"
    assert message.tags == ["a", "rewritten"]
    assert list(message.recipients.values_list("phone", flat=True)) == [
        "0912345678",
        "0912345679",
    ]


def test_what_a_receiver_changes_is_validated_like_the_callers_input(
    gateway: Simulator, connect: Callable[..., list[dict[str, Any]]]
) -> None:
    def break_it(sms: OutgoingSms, **kwargs: Any) -> None:
        sms.numbers = ["12345"]

    connect(pre_send, break_it)
    outcomes = connect(post_send)
    with pytest.raises(InvalidNumberError, match="12345"):
        send_sms("0912345678", "Hi")
    assert not Message.objects.exists()
    assert [o["status"] for o in outcomes] == ["refused"]
    assert isinstance(outcomes[0]["error"], InvalidNumberError)


def test_a_pre_send_receiver_may_cancel_the_send(
    gateway: Simulator, connect: Callable[..., list[dict[str, Any]]]
) -> None:
    def cancel(sms: OutgoingSms, **kwargs: Any) -> None:
        if "no-sms" in sms.tags:
            raise SmsgoCancelSend("the customer asked for no SMS")

    connect(pre_send, cancel)
    outcomes = connect(post_send)
    with pytest.raises(SmsgoCancelSend, match="asked for no SMS"):
        send_sms("0912345678", "Hi", tags=["no-sms"], metadata={"customer": 7})
    assert not Message.objects.exists()
    assert gateway.state.messages == {}
    [outcome] = outcomes
    assert (outcome["status"], outcome["message"]) == ("cancelled", None)
    assert outcome["metadata"] == {"customer": 7}
    send_sms("0912345678", "Hi")  # another send is not affected
    assert Message.objects.count() == 1


def test_post_send_tells_the_stored_message_after_the_commit(
    gateway: Simulator,
    connect: Callable[..., list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    outcomes = connect(post_send)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_sms("0912345678", "Hi", metadata={"order": 1}, tags=["order"])
        assert outcomes == []  # not before the commit
    [outcome] = outcomes
    assert (outcome["status"], outcome["message"]) == ("queued", message)
    assert (outcome["metadata"], outcome["tags"]) == ({"order": 1}, ["order"])
    with django_capture_on_commit_callbacks(execute=True):
        create_draft("0912345678", "Later", allow_duplicate=True)
    assert outcomes[-1]["status"] == "draft"


def test_send_mass_sms_runs_the_hooks_for_each_text(
    gateway: Simulator,
    connect: Callable[..., list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    before = connect(pre_send)
    after = connect(post_send)
    with django_capture_on_commit_callbacks(execute=True):
        send_mass_sms(
            [("0912345678", "One"), ("0912345679", "Two")], tags=["batch"], metadata={"run": 3}
        )
    assert [b["sms"].body for b in before] == ["One", "Two"]
    assert [a["status"] for a in after] == ["queued", "queued"]
    assert {tuple(m.tags) for m in Message.objects.all()} == {("batch",)}


def test_every_signal_carries_metadata_and_tags_and_the_report_an_event(
    gateway: Simulator,
    configure: Callable[..., None],
    connect: Callable[..., list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    submitted = connect(message_submitted)
    reports = connect(delivery_report_received)
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(["0912345678", "0912345691"], "Hi", metadata={"order": 9}, tags=["order"])
    from django_smsgo.services.polling import poll_delivery_status

    with django_capture_on_commit_callbacks(execute=True):
        poll_delivery_status(0)
    assert (submitted[0]["metadata"], submitted[0]["tags"]) == ({"order": 9}, ["order"])
    by_phone = {r["recipient"].phone: r for r in reports}
    delivered = by_phone["0912345678"]["event"]
    assert isinstance(delivered, SmsEvent)
    assert (delivered.event_type, delivered.state) == (EventType.DELIVERED, "DELIVRD")
    assert delivered.recipient == "0912345678"
    assert delivered.message_id == by_phone["0912345678"]["report"].msgid
    assert delivered.metadata == {"order": 9}
    assert delivered.tags == ("order",)
    assert delivered.esp_event == by_phone["0912345678"]["report"].raw
    assert by_phone["0912345691"]["event"].event_type == EventType.FAILED  # UNDELIV
    assert {r["esp_name"] for r in reports} == {"smsgo"}
    assert all(r["metadata"] == {"order": 9} for r in reports)


def test_message_failed_and_reply_received_carry_them_too(
    gateway: Simulator,
    configure: Callable[..., None],
    connect: Callable[..., list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    failed = connect(message_failed)
    gateway.state.accounts["tester"].points = 0  # refused: -8
    with django_capture_on_commit_callbacks(execute=True):
        send_sms("0912345678", "Hi", metadata={"order": 5}, tags=["t"])
    assert (failed[0]["metadata"], failed[0]["tags"]) == ({"order": 5}, ["t"])
    replies = connect(reply_received)
    from django_smsgo.testing.factories import ReplyFactory

    reply = ReplyFactory()
    reply.message.metadata, reply.message.tags = {"order": 6}, ["r"]
    reply.message.save()
    from django_smsgo.services.replies import _announce

    _announce(reply)
    assert (replies[0]["metadata"], replies[0]["tags"]) == ({"order": 6}, ["r"])


def test_a_resend_keeps_the_metadata_and_tags(
    gateway: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    from django_smsgo.services.sending import resend_recipients
    from django_smsgo.testing.factories import MessageFactory

    original = MessageFactory(
        status=Message.Status.FAILED, recipients=1, metadata={"order": 8}, tags=["x"]
    )
    again = resend_recipients(original.recipients.all())
    assert (again.metadata, again.tags) == ({"order": 8}, ["x"])

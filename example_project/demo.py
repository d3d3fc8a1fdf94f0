"""``make demo``: the project's main job end to end, with real processes.

1. starts the bundled gateway simulator, migrates a fresh database, starts the
   web server (the callback URLs) and a Celery worker;
2. sends one SMS to five numbers with ``send_sms()``; the simulator's outcome
   rule gives each a different fate (DELIVRD, UNDELIV, ABSENT, EXPIRED, ACCEPTD);
3. shows each delivery report as the simulator posts it to the callback URL;
4. prints the final table (number, status, gateway text);
5. schedules an SMS for tomorrow and cancels it at the gateway (points refunded);
6. makes a receiver reply and shows the reply arriving;
7. stops every process it started and exits 0 (1 on failure, 130 on Ctrl-C).

Everything lives in a temporary folder unless ``DATABASE_URL`` /
``CELERY_BROKER_URL`` are set: then the same run uses PostgreSQL and Redis (or
RabbitMQ) unchanged. ``--keep`` keeps the folder (logs, database) afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from stack import Stack, StackError, free_port, project_environment, setup_django, sigterm_as_exit

#: One number per simulator outcome (the rule is on the last two digits; docs/simulator.rst).
NUMBERS = {
    "0912000001": "DELIVRD",
    "0912000091": "UNDELIV",
    "0912000092": "ABSENT",
    "0912000093": "EXPIRED",
    "0912000098": "ACCEPTD",
}
SCHEDULED_NUMBER = "0912000002"
REPLYING_NUMBER = "0912000001"
REPLY_TEXT = "收到，謝謝！"
DELIVERY_TIMEOUT = 60.0


def say(text: str = "") -> None:
    print(text, flush=True)


def step(text: str) -> None:
    say(f"\n== {text}")


def admin_call(simulator_url: str, call: str, payload: dict[str, Any] | None = None) -> Any:
    """POST (or GET without payload) to the simulator's admin API; the JSON answer."""
    url = simulator_url.replace("/sms_gw/", "/_admin/") + call
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 - our own simulator on loopback
        url, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())


def wait_until(condition: Any, timeout: float, what: str, stack: Stack) -> Any:
    """Poll ``condition()`` until it returns something true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        stack.check_alive()
        if time.monotonic() > deadline:
            raise StackError(f"no {what} after {timeout:.0f} s")
        time.sleep(0.2)


def run(workdir: Path) -> None:
    simulator_port = free_port()
    web_port = free_port()
    token = secrets.token_urlsafe(32)
    # The app logs at INFO in the example project; the demo's own lines tell the story.
    os.environ.setdefault("SMSGO_LOG_LEVEL", "WARNING")
    env = project_environment(
        workdir,
        api_url=f"http://127.0.0.1:{simulator_port}/sms_gw/",
        backup_api_url=f"http://127.0.0.1:{simulator_port}/sms_gw/",
        callback_base_url=f"http://127.0.0.1:{web_port}",
        callback_token=token,
        username="demo",
        password="demo",  # noqa: S106 - the simulator's demo account
    )
    setup_django(env)

    from django.conf import settings
    from django.core.management import call_command

    with Stack(workdir, env) as stack:
        step("Setting up")
        database = settings.DATABASES["default"]
        say(f"database      {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
        say(f"Celery broker {settings.CELERY_BROKER_URL}")
        call_command("migrate", interactive=False, verbosity=0)
        say("migrations    applied")
        simulator_url = stack.start_simulator(simulator_port, delivery_delay=1.0)
        say(f"simulator     {simulator_url}  (the gateway; account demo, 100000 points)")
        origin = stack.start_web(web_port)
        say(f"web server    {origin}/smsgo/...  (Phase-Two reports and replies arrive here)")
        worker = stack.start_worker()
        say(f"Celery worker pid {worker.popen.pid}")

        message = send_and_follow(stack)
        print_table(message)
        schedule_and_cancel(stack, simulator_url)
        reply(stack, simulator_url, message)

        step("Stopping")
    say("simulator, web server and worker stopped. Done.")


def send_and_follow(stack: Stack) -> Any:
    """Send to :data:`NUMBERS` and print each delivery report as it arrives."""
    from django.utils import timezone

    from django_smsgo import send_sms
    from django_smsgo.models import DeliveryReport, Recipient

    step(f"Sending one SMS to {len(NUMBERS)} numbers with send_sms()")
    body = f"django-smsgo demo {timezone.localtime():%H:%M:%S}: 您好，這是一則測試簡訊。"
    message = send_sms(list(NUMBERS), body, reply=True)
    say(
        f"message #{message.pk}: {message.recipient_count} recipients, {message.encoding}, "
        f"{message.segments} segment each, about {message.estimated_points} points "
        "(one per recipient, one for collecting replies)"
    )
    sent_at = time.monotonic()

    step("Delivery reports as the gateway calls back")
    seen: set[int] = set()
    final = {Recipient.Status.DELIVERED, Recipient.Status.FAILED, Recipient.Status.CANCELLED}
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        reports = DeliveryReport.objects.filter(batch__message=message).exclude(pk__in=seen)
        for report in reports.order_by("pk").select_related("recipient"):
            seen.add(report.pk)
            recipient = report.recipient
            say(
                f"  +{time.monotonic() - sent_at:4.1f} s  {report.source:<9}"
                f"{recipient.phone if recipient else report.phone:<12} "
                f"{report.statusstr:<8} -> {recipient.status if recipient else '?'}"
            )
        recipients = Recipient.objects.filter(message=message)
        if recipients.exclude(status__in=final).count() == 0:
            break
        stack.check_alive()
        if time.monotonic() > deadline:
            waiting = ", ".join(
                f"{r.phone} ({r.status})" for r in recipients.exclude(status__in=final)
            )
            raise StackError(f"no final status after {DELIVERY_TIMEOUT:.0f} s for {waiting}")
        time.sleep(0.3)
    message.refresh_from_db()
    return message


def print_table(message: Any) -> None:
    step(f"Final status of message #{message.pk} ({message.get_status_display()})")
    say(f"{'number':<12}  {'status':<10}  gateway text")
    say(f"{'-' * 12}  {'-' * 10}  {'-' * 12}")
    for recipient in message.recipients.order_by("phone"):
        say(f"{recipient.phone:<12}  {recipient.status:<10}  {recipient.gateway_status}")


def schedule_and_cancel(stack: Stack, simulator_url: str) -> None:
    """Schedule an SMS for tomorrow, wait until the gateway holds it, and cancel it there."""
    from django.utils import timezone

    from django_smsgo import send_sms
    from django_smsgo.models import Message

    step("Scheduling an SMS for tomorrow, then cancelling it")
    send_at = timezone.now() + timedelta(days=1)
    scheduled = send_sms(SCHEDULED_NUMBER, "明天上午十點的預約提醒。", send_at=send_at)
    when = timezone.localtime(send_at)
    say(f"message #{scheduled.pk} to {SCHEDULED_NUMBER} for {when:%Y-%m-%d %H:%M} (Taipei)")
    wait_until(
        lambda: Message.objects.filter(pk=scheduled.pk, status=Message.Status.SCHEDULED).exists(),
        30,
        "scheduled status",
        stack,
    )
    points_before = _points(simulator_url)
    say(f"the gateway holds it (status scheduled); balance {points_before} points")
    from django_smsgo.services.cancelling import cancel_message

    outcome = cancel_message(scheduled)
    scheduled.refresh_from_db()
    for batch in outcome.batches:
        verdict = "cancelled" if batch.cancelled else f"refused ({batch.statusstr})"
        say(f"sendsms_cancel.asp msgid {batch.msgid}: {verdict}")
    say(f"message #{scheduled.pk} is {scheduled.status}; balance {_points(simulator_url)} points")
    if scheduled.status != Message.Status.CANCELLED:
        raise StackError(f"message #{scheduled.pk} was not cancelled: {scheduled.status}")


def _points(simulator_url: str) -> int:
    accounts = admin_call(simulator_url, "accounts")["accounts"]
    return int(next(a["points"] for a in accounts if a["username"] == "demo"))


def reply(stack: Stack, simulator_url: str, message: Any) -> None:
    """Make a receiver answer the first message; the reply reaches the reply URL."""
    from django_smsgo.models import Reply

    step(f"A reply from {REPLYING_NUMBER}")
    msgid = message.batches.exclude(msgid="").values_list("msgid", flat=True).first()
    admin_call(
        simulator_url, "reply", {"msgid": msgid, "srcaddr": REPLYING_NUMBER, "smbody": REPLY_TEXT}
    )
    received = wait_until(
        lambda: Reply.objects.filter(msgid=msgid, from_phone=REPLYING_NUMBER).first(),
        30,
        "reply",
        stack,
    )
    say(f"reply to message #{received.message_id} from {received.from_phone}: {received.body}")


class Interrupted:
    """Remembers a Ctrl-C even if a library turns the KeyboardInterrupt into something else.

    (SQLite, for one, answers an interrupted query with ``OperationalError``,
    which a caller may handle and carry on.)
    """

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.seen = True
        signal.default_int_handler(signum, frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the working folder afterwards")
    options = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="smsgo-demo-"))
    interrupted = Interrupted()
    signal.signal(signal.SIGINT, interrupted)
    try:
        with sigterm_as_exit():
            run(workdir)
        if interrupted.seen:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        say("\ninterrupted: every process started was stopped")
        return 130
    except StackError as exc:
        if interrupted.seen:
            say("\ninterrupted: every process started was stopped")
            return 130
        say(f"\ndemo failed: {exc}")
        return 1
    finally:
        if options.keep:
            say(f"working folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

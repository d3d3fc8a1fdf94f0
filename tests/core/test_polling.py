"""Status polling with queryBulk.asp: to final states, one report per change, giving up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.models import DeliveryReport, Message, Recipient
from django_smsgo.services.polling import poll_delivery_status
from django_smsgo.services.reports import record_observation
from django_smsgo.services.sending import send_sms
from django_smsgo.simulator.instance import Simulator

pytestmark = pytest.mark.django_db(transaction=True)


def query_requests(simulator: Simulator) -> list[dict[str, Any]]:
    return [r for r in simulator.requests if r["endpoint"] == "queryBulk.asp"]


def test_polling_brings_recipients_to_their_final_states(gateway: Simulator) -> None:
    message = send_sms(["0912345600", "0912345691", "0912345698", "0912345699"], "Hi")
    gateway.advance()
    result = poll_delivery_status(min_age=0)
    by_phone = dict(message.recipients.values_list("phone", "status"))
    assert by_phone == {
        "0912345600": Recipient.Status.DELIVERED,
        "0912345691": Recipient.Status.FAILED,  # UNDELIV
        "0912345698": Recipient.Status.FAILED,  # ACCEPTD: read by customer service
        "0912345699": Recipient.Status.SUBMITTED,  # never final
    }
    assert result.changed == 4  # three final, one ENROUTE
    reports = DeliveryReport.objects.filter(source=DeliveryReport.Source.POLL)
    assert reports.count() == 4
    assert message.recipients.get(phone="0912345698").gateway_status == "ACCEPTD"


def test_polling_batches_pairs_by_the_configured_size(gateway: Simulator, configure: Any) -> None:
    configure(POLL_BATCH_SIZE=20)
    send_sms([f"0912{n:06d}" for n in range(45)], "Hi")
    result = poll_delivery_status(min_age=0)
    assert result.requests == 3
    sizes = [len(r["params"]["msgid"].split(",")) for r in query_requests(gateway)]
    assert sizes == [20, 20, 5]


def test_unchanged_answers_store_no_new_report(gateway: Simulator) -> None:
    gateway.set_outcome("0912345678", None)  # stays ENROUTE
    send_sms("0912345678", "Hi")
    poll_delivery_status(min_age=0)
    poll_delivery_status(min_age=0)
    poll_delivery_status(min_age=0)
    assert DeliveryReport.objects.count() == 1
    assert len(query_requests(gateway)) == 3


def test_polling_can_be_limited_to_some_messages(gateway: Simulator) -> None:
    asked = send_sms(["0912345601", "0912345602"], "Asked")
    left = send_sms("0912345603", "Left alone")
    gateway.advance()
    result = poll_delivery_status(min_age=0, message_ids=[asked.pk])
    assert result.asked == 2
    (request,) = query_requests(gateway)
    assert sorted(request["params"]["dstaddr"].split(",")) == ["0912345601", "0912345602"]
    assert left.recipients.get().status == Recipient.Status.SUBMITTED


def test_min_age_leaves_recent_submissions_alone(gateway: Simulator) -> None:
    message = send_sms("0912345678", "Hi")
    assert poll_delivery_status(min_age=60).asked == 0
    Recipient.objects.filter(message=message).update(
        submitted_at=timezone.now() - timedelta(seconds=61)
    )
    assert poll_delivery_status(min_age=60).asked == 1
    assert poll_delivery_status(min_age=60).asked == 0  # final now: never asked again


def test_final_states_are_terminal(gateway: Simulator) -> None:
    gateway.set_outcome("0912345678", "UNDELIV")
    message = send_sms("0912345678", "Hi")
    recipient = message.recipients.get()
    batch = recipient.batch
    assert batch is not None
    record_observation(
        msgid=batch.msgid,
        phone="0912345678",
        statuscode=0,
        statusstr="DELIVRD",
        source=DeliveryReport.Source.CALLBACK,
        raw={},
        batch_id=batch.pk,
    )
    poll_delivery_status(min_age=0)
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.DELIVERED  # the first final state stays
    assert poll_delivery_status(min_age=0).asked == 0


def test_recipients_without_final_status_are_given_up(gateway: Simulator, configure: Any) -> None:
    configure(POLL_MAX_AGE=3600)
    gateway.set_outcome("0912345678", None)
    message = send_sms("0912345678", "Hi")
    Recipient.objects.filter(message=message).update(
        submitted_at=timezone.now() - timedelta(seconds=3601)
    )
    result = poll_delivery_status(min_age=0)
    recipient = message.recipients.get()
    message.refresh_from_db()
    assert result.given_up == 1
    assert recipient.status == Recipient.Status.FAILED
    assert recipient.reason_text == "no final status within 1 hour"
    assert message.status == Message.Status.COMPLETED
    assert query_requests(gateway) == []


def test_message_completes_when_every_recipient_is_final(gateway: Simulator) -> None:
    message = send_sms(["0912345600", "0912345601"], "Hi")
    poll_delivery_status(min_age=0)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    assert message.completed_at is not None


def test_poll_task_and_gateway_errors(gateway: Simulator) -> None:
    from django_smsgo.tasks import poll_delivery_status as poll_task

    send_sms("0912345678", "Hi")
    gateway.fault("http500", endpoint="queryBulk.asp", count=1)
    assert "HTTP 500" in poll_task.apply(args=[0]).get()["error"]
    assert poll_task.apply(args=[0]).get()["changed"] == 1


def _answer_once_per_msgid_occurrence(request: Any) -> Any:
    """A gateway that reads the lists as every msgid × every number asked: n×n rows."""
    from werkzeug.wrappers import Response

    msgids = request.args["msgid"].split(",")
    numbers = request.args["dstaddr"].split(",")
    rows = [f"0|DELIVRD|{number}|{msgid}" for msgid in msgids for number in numbers]
    return Response("\r\n".join(rows), content_type="text/plain")


def test_an_answer_of_n_by_n_rows_stores_one_report_per_change(
    gateway: Simulator, configure: Any, httpserver: Any
) -> None:
    message = send_sms([f"0912{n:06d}" for n in range(42)], "Hi")
    httpserver.expect_request("/sms_gw/queryBulk.asp").respond_with_handler(
        _answer_once_per_msgid_occurrence
    )
    configure(API_URL=httpserver.url_for("/sms_gw/"))
    result = poll_delivery_status(min_age=0)
    assert result.requests == 1
    assert result.changed == 42
    assert DeliveryReport.objects.filter(source=DeliveryReport.Source.POLL).count() == 42
    statuses = set(message.recipients.values_list("status", flat=True))
    assert statuses == {Recipient.Status.DELIVERED}


def test_a_refused_row_is_not_taken_for_a_state(
    gateway: Simulator, configure: Any, httpserver: Any
) -> None:
    message = send_sms("0912345670", "Hi")
    msgid = message.batches.get().msgid
    httpserver.expect_request("/sms_gw/queryBulk.asp").respond_with_data(
        f"-1|CGI string error or Unknow|0912345670|{msgid}"
    )
    configure(API_URL=httpserver.url_for("/sms_gw/"))
    poll_delivery_status(min_age=0)
    recipient = message.recipients.get()
    assert recipient.gateway_status == ""
    assert DeliveryReport.objects.filter(source=DeliveryReport.Source.POLL).count() == 0


def test_the_answers_of_a_run_are_written_together(gateway: Simulator, configure: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # One writer: the write runs on this thread's connection, where it is seen.
    configure(POLL_BATCH_SIZE=20, POLL_WRITERS=1)
    send_sms([f"0912{n:06d}" for n in range(45)], "Hi")
    with CaptureQueriesContext(connection) as captured:
        result = poll_delivery_status(min_age=0)
    assert (result.requests, result.changed) == (3, 45)
    inserts = [q for q in captured.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 1  # three answers, one transaction of reports
    assert Recipient.objects.filter(status=Recipient.Status.DELIVERED).count() == 45


def test_what_was_read_before_an_error_is_written(gateway: Simulator, configure: Any) -> None:
    from django_smsgo.backends import get_backend

    real = get_backend()

    class FailingAfterFirst:
        """The real backend; after its first answer the simulator fails the next request."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def query_bulk(self, pairs: Any) -> Any:
            answers = real.query_bulk(pairs)
            gateway.fault("http500", endpoint="queryBulk.asp", count=1)
            return answers

    configure(POLL_BATCH_SIZE=2)
    send_sms([f"0912{n:06d}" for n in range(6)], "Hi")
    result = poll_delivery_status(min_age=0, backend=FailingAfterFirst())  # type: ignore[arg-type]
    assert "HTTP 500" in result.error
    assert (result.requests, result.changed) == (1, 2)
    assert Recipient.objects.filter(status=Recipient.Status.DELIVERED).count() == 2


def test_no_request_follows_an_error_while_the_next_answers_are_asked_ahead(
    gateway: Simulator, configure: Any
) -> None:
    from django_smsgo.backends import get_backend

    real = get_backend()
    answered: list[int] = []

    class FailingAfterTwelve:
        """The real backend; after its twelfth answer the simulator fails the next request."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def query_bulk(self, pairs: Any) -> Any:
            answers = real.query_bulk(pairs)
            answered.append(len(answers))
            if len(answered) == 12:
                gateway.fault("http500", endpoint="queryBulk.asp", count=1)
            return answers

    configure(POLL_BATCH_SIZE=1)  # ten requests a write: the error falls in the second write
    send_sms([f"0912{n:06d}" for n in range(30)], "Hi")
    result = poll_delivery_status(min_age=0, backend=FailingAfterTwelve())  # type: ignore[arg-type]
    assert "HTTP 500" in result.error
    assert (result.requests, result.changed) == (12, 12)
    assert len(query_requests(gateway)) == 13  # twelve answered, the one that failed, no more
    assert Recipient.objects.filter(status=Recipient.Status.DELIVERED).count() == 12

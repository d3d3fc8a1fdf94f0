"""Replies: the reply view, linking, timestamps, opt-out keywords and the suppression list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_smsgo.models import Reply, Suppression
from django_smsgo.services.replies import is_opt_out, parse_reply_timestamp, record_reply
from django_smsgo.services.suppression import (
    is_suppressed,
    phone_variants,
    suppress,
    suppressed_among,
    unsuppress,
)

from .conftest import make_batch, reply_path, smsgo_config

MSGID = "100101121234567"


def reply_params(**overrides: str) -> dict[str, str]:
    params = {
        "msgid": MSGID,
        "srcaddr": "0912345678",
        "dstaddr": "0911000000",
        "smbody": "OK 收到",
        "encoding": "UCS2",
        "timestamp": "2026/01/02 08:30:00",
    }
    params.update(overrides)
    return params


@pytest.mark.django_db
def test_reply_view_stores_and_links_the_reply(
    client: Client,
    django_capture_on_commit_callbacks: Any,
    signal_log: Callable[[str], list[dict[str, Any]]],
) -> None:
    batch = make_batch()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reply_path(batch), reply_params())
    assert response.status_code == 200
    assert response.content == f"magicid=tccrd_sms_gateway_rpack\nmsgid={MSGID}\n".encode()
    reply = Reply.objects.get()
    assert reply.body == "OK 收到"
    assert reply.message_id == batch.message_id
    assert reply.recipient is not None
    assert reply.recipient.phone == "0912345678"
    assert reply.to_phone == "0911000000"
    assert reply.sent_at == datetime(2026, 1, 2, 0, 30, tzinfo=UTC)
    assert reply.raw == reply_params()
    assert [kw["reply"].pk for kw in signal_log("reply")] == [reply.pk]


@pytest.mark.django_db
def test_reply_to_unknown_message_is_still_kept(client: Client) -> None:
    batch = make_batch()
    response = client.get(reply_path(batch), reply_params(msgid="424242"))
    assert response.status_code == 200
    reply = Reply.objects.get()
    # The reply URL names the batch, so it is linked even with a msgid we do not know.
    assert reply.message_id == batch.message_id


@pytest.mark.django_db
def test_reply_with_unknown_timestamp_format_is_kept_without_time(client: Client) -> None:
    batch = make_batch()
    response = client.get(reply_path(batch), reply_params(timestamp="yesterday"))
    assert response.status_code == 200
    reply = Reply.objects.get()
    assert reply.sent_at is None
    assert reply.raw["timestamp"] == "yesterday"


BAD_REPLIES = {
    "missing-msgid": ({"msgid": ""}, "missing msgid"),
    "missing-srcaddr": ({"srcaddr": ""}, "missing srcaddr"),
    "srcaddr-not-a-number": ({"srcaddr": "hello"}, "srcaddr must be"),
    "body-too-long": ({"smbody": "x" * 1001}, "smbody longer than"),
    "bad-encoding": ({"encoding": "UTF-8!"}, "encoding must be"),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "reason"), list(BAD_REPLIES.values()), ids=list(BAD_REPLIES))
def test_bad_reply_gets_400_and_nothing_stored(
    client: Client, overrides: dict[str, str], reason: str
) -> None:
    batch = make_batch()
    response = client.get(reply_path(batch), reply_params(**overrides))
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert Reply.objects.count() == 0


@pytest.mark.django_db
def test_reply_with_invalid_utf8_text_is_refused(client: Client) -> None:
    batch = make_batch()
    query = f"msgid={MSGID}&srcaddr=0912345678&smbody=%E5%A5"  # a cut-off character
    response = client.get(f"{reply_path(batch)}?{query}")
    assert response.status_code == 400
    assert Reply.objects.count() == 0


@pytest.mark.django_db
def test_reply_token_does_not_open_the_report_url(client: Client) -> None:
    batch = make_batch()
    path = reply_path(batch).replace("/reply/", "/report/")
    assert client.get(path, {"msgid": MSGID, "statusstr": "DELIVRD"}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text", ["STOP", "stop", " Stop! ", "STOP ALL", "退訂", "取消訂閱", "ＳＴＯＰ"]
)
def test_opt_out_keywords_suppress_the_number(client: Client, text: str) -> None:
    batch = make_batch()
    client.get(
        f"{reply_path(batch)}?"
        + "&".join(f"{k}={quote(v)}" for k, v in reply_params(smbody=text).items())
    )
    reply = Reply.objects.get()
    assert reply.is_opt_out
    entry = Suppression.objects.get()
    assert entry.phone == "0912345678"
    assert entry.reason == Suppression.Reason.OPT_OUT
    assert entry.reply == reply


@pytest.mark.parametrize(
    "text",
    [
        "don't stop",
        "謝謝",
        "",
        "stopwatch",
        "我不要退訂",
        "Stop. Thank you",
        "STOP 謝謝",
        "取消訂單",
    ],
)
def test_ordinary_replies_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


@pytest.mark.django_db
def test_opt_out_keywords_are_configurable(settings: Any) -> None:
    settings.SMSGO = smsgo_config(OPT_OUT_KEYWORDS=["QUIT"])
    assert is_opt_out("quit")
    assert not is_opt_out("STOP")


@pytest.mark.django_db
def test_second_opt_out_keeps_the_first_entry() -> None:
    make_batch()
    first = record_reply(msgid=MSGID, srcaddr="0912345678", smbody="STOP", raw={})
    record_reply(msgid=MSGID, srcaddr="+886912345678", smbody="退訂", raw={})
    entry = Suppression.objects.get()
    assert entry.reply == first
    assert Reply.objects.count() == 2


def test_timestamp_formats() -> None:
    expected = datetime(2026, 1, 2, 0, 30, tzinfo=UTC)
    assert parse_reply_timestamp("2026/01/02 08:30:00") == expected
    assert parse_reply_timestamp("20260102083000") == expected
    assert parse_reply_timestamp("2026-01-02T08:30:00+08:00") == expected
    assert parse_reply_timestamp("2026-01-02T00:30:00Z") == expected
    assert parse_reply_timestamp("2026-01-02 08:30:00") == expected
    with pytest.raises(ValueError, match="'02/01/2026'"):
        parse_reply_timestamp("02/01/2026")


@pytest.mark.django_db
def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        record_reply(msgid=MSGID, srcaddr="0912345678", timestamp=datetime(2026, 1, 1), raw={})
    assert Reply.objects.count() == 0


# --- suppression list -------------------------------------------------------------------------


def test_phone_variants_of_a_taiwanese_mobile() -> None:
    expected = {"0912345678", "+886912345678", "886912345678"}
    assert phone_variants("0912-345-678") == expected
    assert phone_variants("+886 912 345 678") == expected
    assert phone_variants("+8613681912700") == {"+8613681912700"}


@pytest.mark.django_db
def test_suppression_matches_every_spelling() -> None:
    suppress("+886912345678", note="asked by phone")
    assert is_suppressed("0912345678")
    assert is_suppressed("886912345678")
    assert not is_suppressed("0987654321")
    assert suppressed_among(["0912345678", "0987654321", "+886912345678"]) == {
        "0912345678",
        "+886912345678",
    }
    assert unsuppress("0912345678") == 1
    assert not is_suppressed("+886912345678")


@pytest.mark.django_db
def test_suppressed_among_many_numbers_crosses_chunks() -> None:
    numbers = [f"09{i:08d}" for i in range(2_000)]
    for index in (0, 299, 300, 1_234, 1_999):
        suppress(numbers[index])
    assert suppressed_among(numbers) == {numbers[i] for i in (0, 299, 300, 1_234, 1_999)}
    assert suppressed_among([]) == set()


@pytest.mark.django_db
def test_a_large_send_reads_a_short_suppression_list_whole() -> None:
    numbers = [f"09{i:08d}" for i in range(2_000)]
    suppress("+886" + numbers[1_500][1:])
    suppress(numbers[7])
    with CaptureQueriesContext(connection) as queries:
        found = suppressed_among(numbers)
    assert found == {numbers[7], numbers[1_500]}
    # The list counted (up to the send's spellings) and read: not one query per 300 numbers.
    assert len(queries.captured_queries) == 2


@pytest.mark.django_db
def test_a_suppression_list_longer_than_the_send_is_looked_up_by_number() -> None:
    numbers = [f"0911{i:06d}" for i in range(400)]
    Suppression.objects.bulk_create(
        Suppression(phone=f"0922{i:06d}", reason=Suppression.Reason.MANUAL) for i in range(1_300)
    )
    suppress("886" + numbers[399][1:])
    with CaptureQueriesContext(connection) as queries:
        found = suppressed_among(["+886" + n[1:] for n in numbers[:10]] + numbers[10:])
    assert found == {numbers[399]}
    # The count stopped at 1,201 rows (three a number), then two chunks of 300 numbers.
    assert len(queries.captured_queries) == 3


@pytest.mark.django_db
def test_suppress_refuses_bad_values_naming_them() -> None:
    with pytest.raises(ValueError, match=r"'0{30}'.*1 to 20"):
        suppress("0" * 30)
    with pytest.raises(ValueError, match="'whim'"):
        suppress("0912345678", "whim")
    assert Suppression.objects.count() == 0


@pytest.mark.django_db
def test_suppress_is_idempotent() -> None:
    first = suppress("0912345678", Suppression.Reason.OPT_OUT)
    again = suppress("+886912345678", Suppression.Reason.MANUAL)
    assert again.pk == first.pk
    assert again.reason == Suppression.Reason.OPT_OUT


@pytest.mark.django_db
def test_the_same_reply_arriving_again_is_stored_once(
    client: Client,
    django_capture_on_commit_callbacks: Any,
    signal_log: Callable[[str], list[dict[str, Any]]],
) -> None:
    batch = make_batch()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert client.get(reply_path(batch), reply_params()).status_code == 200
        # The same text later is a new reply.
        later = reply_params(timestamp="2026/01/02 08:31:00")
        assert client.get(reply_path(batch), later).status_code == 200
    assert Reply.objects.count() == 2
    assert len(signal_log("reply")) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"msgid": ""}, "needs a msgid"),
        ({"srcaddr": "1" * 21}, "srcaddr '1+' is longer than 20"),
        ({"encoding": "VERYLONGENC"}, "encoding 'VERYLONGENC' is longer than 8"),
    ],
)
def test_record_reply_refuses_out_of_range_values(kwargs: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"msgid": MSGID, "srcaddr": "0912345678", "raw": {}, **kwargs}
    with pytest.raises(ValueError, match=message):
        record_reply(**values)
    assert Reply.objects.count() == 0

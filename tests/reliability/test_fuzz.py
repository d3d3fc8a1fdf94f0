"""Generated bad input: callback views never answer 5xx, send_sms() never stores half a message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_from_bytes, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_smsgo import send_sms
from django_smsgo.exceptions import SmsgoError
from django_smsgo.models import Batch, DeliveryReport, Message, Recipient, Reply
from django_smsgo.services.callback_urls import reply_url, report_url
from django_smsgo.testing.factories import BatchFactory, MessageFactory, RecipientFactory

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

FUZZ = hypothesis_settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)
keys = st.sampled_from(
    ["msgid", "statuscode", "statusstr", "dstaddr", "srcaddr", "smbody", "encoding", "timestamp"]
)
plausible = st.one_of(
    text,
    st.sampled_from(["2611261530120001", "0", "-1", "DELIVRD", "ENROUTE", "0912345678", ""]),
    st.integers(-(10**20), 10**20).map(str),
    st.text(max_size=3000, alphabet="9x%&=").filter(bool),
)


@pytest.fixture
def batch(settings: Any) -> Batch:
    settings.SMSGO = {**settings.SMSGO, "CALLBACK_BASE_URL": "https://shop.example"}
    message = MessageFactory(
        body="fuzz",
        status=Message.Status.SUBMITTED,
        recipient_count=1,
        reply=True,
    )
    batch = BatchFactory(
        message=message,
        state=Batch.State.SUBMITTED,
        msgid="2611261530120001",
        submitted_at=timezone.now(),
    )
    RecipientFactory(
        message=message, phone="0912345678", batch=batch, status=Recipient.Status.SUBMITTED
    )
    return batch


def test_callback_views_never_answer_5xx(batch: Batch, figures: Callable[..., None]) -> None:
    client = Client(raise_request_exception=False)
    paths = [urlsplit(report_url(batch) or "").path, urlsplit(reply_url(batch) or "").path]
    paths += [p.replace(f"/{batch.pk}/", "/987654/") for p in paths]  # unknown batch
    paths += [p.rsplit("/", 2)[0] + "/not-the-token/" for p in paths[:2]]  # wrong token
    answers: Counter[int] = Counter()
    half_stored = 0

    valid = {
        "msgid": batch.msgid or "",
        "statuscode": "0",
        "statusstr": "DELIVRD",
        "dstaddr": "0912345678",
        "srcaddr": "0912345678",
        "smbody": "STOP",
        "encoding": "ASCII",
        "timestamp": "2026/11/26 15:30:12",
    }

    @FUZZ
    @given(
        # Valid URLs and parameters most of the time, so the fuzz reaches the service too.
        path=st.one_of(st.sampled_from(paths[:2]), st.sampled_from(paths)),
        method=st.sampled_from(["GET", "POST"]),
        changed=st.dictionaries(st.one_of(keys, text), plausible, max_size=3),
        dropped=st.sets(keys, max_size=2),
        raw=st.one_of(st.none(), st.none(), st.binary(max_size=200)),
    )
    def check(
        path: str, method: str, changed: dict[str, str], dropped: set[str], raw: bytes | None
    ) -> None:
        nonlocal half_stored
        params = {k: v for k, v in {**valid, **changed}.items() if k not in dropped}
        query = quote_from_bytes(raw, safe="=&") if raw is not None else urlencode(params)
        before = (DeliveryReport.objects.count(), Reply.objects.count())
        if method == "GET":
            response = client.generic("GET", path, QUERY_STRING=query)
        else:
            response = client.generic(
                "POST",
                path,
                query.encode("latin-1", "replace"),
                content_type="application/x-www-form-urlencoded",
            )
        answers[response.status_code] += 1
        assert response.status_code < 500, (path, query, response.content[:300])
        after = (DeliveryReport.objects.count(), Reply.objects.count())
        if response.status_code != 200 and after != before:
            half_stored += 1
        assert response.status_code == 200 or after == before, "a refused callback stored rows"

    check()
    figures(
        "fuzz: callback views",
        requests=sum(answers.values()),
        answers=dict(sorted(answers.items())),
        server_errors=sum(n for code, n in answers.items() if code >= 500),
        stored_by_refused=half_stored,
    )


valid_number = st.from_regex(r"\A09\d{8}\Z")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(
            "msgid=2611261530120001&statuscode=0&statusstr=DELIVRD&dstaddr=0912345678&%00=",
            id="nul-in-a-name",
        ),
        pytest.param(
            "msgid=2611261530120001&statuscode=0&statusstr=DELIVRD&dstaddr=0912345678&note=a%00b",
            id="nul-in-an-extra-value",
        ),
        pytest.param(
            "msgid=2611261530120001&statuscode=0&statusstr=DELIV%00RD&dstaddr=0912345678",
            id="nul-in-statusstr",
        ),
        pytest.param(
            "msgid=2611261530120001&srcaddr=0912345678&dstaddr=0911000000&smbody=a%00b"
            "&encoding=ASCII&timestamp=2026%2F11%2F26+15%3A30%3A12",
            id="nul-in-a-reply-body",
        ),
    ],
)
def test_nul_in_a_callback_is_refused_not_answered_503(batch: Batch, query: str) -> None:
    # PostgreSQL cannot store U+0000 in text or jsonb: a report carrying it must be
    # refused as bad input (4xx, nothing stored), not answered 503, which makes
    # the gateway retry a report that can never be stored.
    client = Client(raise_request_exception=False)
    url = reply_url(batch) if "smbody" in query else report_url(batch)
    response = client.generic("GET", urlsplit(url or "").path, QUERY_STRING=query)
    assert 400 <= response.status_code < 500, response.content[:200]
    assert DeliveryReport.objects.count() == Reply.objects.count() == 0


numbers = st.one_of(
    valid_number,
    st.sampled_from(["0912345678", "0912-345-678", "+886912345678", "+8613812345678"]),
    text,
)


def test_send_sms_never_stores_half_a_message(
    settings: Any, eager: None, figures: Callable[..., None]
) -> None:
    settings.SMSGO = {
        **settings.SMSGO,
        "BACKEND": "django_smsgo.backends.locmem.LocmemBackend",
        "CALLBACK_BASE_URL": None,
    }
    outcomes: Counter[str] = Counter()
    half_stored = 0
    now = timezone.now()

    @FUZZ
    @given(
        to=st.one_of(
            valid_number, st.lists(valid_number, min_size=1, max_size=80), st.lists(numbers)
        ),
        body=st.one_of(st.sampled_from(["hello", "你好", "x" * 161]), st.text(max_size=400)),
        encoding=st.one_of(
            st.none(),
            st.sampled_from(
                ["ASCII", "BIG5", "UCS2", "LBIG5", "LASCII", "PUSH", "PASCII", "bogus"]
            ),
        ),
        reply=st.booleans(),
        reply_days=st.one_of(st.none(), st.integers(-5, 40)),
        wap_url=st.one_of(st.none(), st.sampled_from(["https://shop.example/a", "ftp://x", ""])),
        send_at=st.one_of(
            st.none(),
            st.sampled_from([now + timedelta(hours=1), now - timedelta(days=400)]),
            st.just(datetime(2030, 1, 1)),  # naive: refused
        ),
    )
    def check(
        to: Any,
        body: str,
        encoding: str | None,
        reply: bool,
        reply_days: int | None,
        wap_url: str | None,
        send_at: datetime | None,
    ) -> None:
        nonlocal half_stored
        before = (Message.objects.count(), Recipient.objects.count())
        try:
            message = send_sms(
                to,
                body,
                encoding=encoding,
                reply=reply,
                reply_days=reply_days,
                wap_url=wap_url,
                send_at=send_at,
            )
        except SmsgoError as exc:
            outcomes[type(exc).__name__] += 1
            explained = bool(str(exc))
            assert explained, "an error without a message"
            if (Message.objects.count(), Recipient.objects.count()) != before:
                half_stored += 1
            assert (Message.objects.count(), Recipient.objects.count()) == before
            return
        outcomes["stored"] += 1
        stored = Recipient.objects.filter(message=message).count()
        if stored != message.recipient_count or stored == 0:
            half_stored += 1
        assert stored == message.recipient_count > 0

    check()
    figures(
        "fuzz: send_sms() inputs",
        calls=sum(outcomes.values()),
        outcomes=dict(outcomes.most_common()),
        half_stored=half_stored,
    )

"""Generated bad input: callback views never answer 5xx, send_sms() never stores half a message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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


valid_number = st.from_regex(r"\A09[0-9]{8}\Z")  # ASCII digits: \d also draws look-alikes


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


# Hostile inputs of send_sms() and the API: every look-alike digit, control
# characters, wrong types, keys empty or too long, dates out of range, unsafe
# WAP URLs. Whatever is refused must be refused with the app's own typed error
# (an SmsgoError; 400 from the API), store nothing and send nothing.

LOOK_ALIKES = [
    "０９１２３４５６７８",  # full-width: normalised, accepted
    "09１2345678",
    "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic: refused
    "०९१२३४५६७८",  # Devanagari: refused
    "0912345678\x00",
    "0912\u200b345678",
    "+886 912 345 678",
    "09123456789",
    "0912-345-67８",
    "𝟘𝟡𝟙𝟚𝟛𝟜𝟝𝟞𝟟𝟠",  # mathematical digits: refused
]
hostile_number = st.one_of(
    valid_number,
    st.sampled_from(LOOK_ALIKES),
    text,
    st.integers(-(10**12), 10**12),
    st.none(),
    st.floats(allow_nan=True),
    st.binary(max_size=12),
)
hostile_to = st.one_of(
    hostile_number,
    st.lists(hostile_number, max_size=4),
    st.lists(valid_number, min_size=1, max_size=4),
)
hostile_body = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["hi\x00there", "bell\x07", "esc\x1b[31m", "del\x7f", "", " ", "x" * 2_000]),
    st.integers(),
    st.none(),
    st.binary(max_size=10),
    st.lists(st.text(max_size=3), max_size=2),
)
hostile_key = st.one_of(
    st.none(),
    st.sampled_from(["", "   ", "\t\n", "k" * 256, "a\x00b", "order-1"]),
    st.text(max_size=300),
    st.integers(),
)
aware = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
moments = st.one_of(
    aware,
    st.datetimes(min_value=datetime(1, 1, 2)),  # naive
    st.sampled_from(["2030-01-01T00:00:00Z", "tomorrow", ""]),
    st.integers(-(10**12), 10**12),
)
hostile_options = st.fixed_dictionaries(
    {},
    optional={
        "encoding": st.one_of(
            st.sampled_from(["ASCII", "BIG5", "UCS2", "LBIG5", "LASCII", "PUSH", "PASCII"]),
            text,
            st.integers(),
        ),
        "send_at": moments,
        "expires_at": moments,
        "reply": st.one_of(st.booleans(), st.sampled_from(["no", "yes", 1, 0, None, 2.5])),
        "reply_days": st.one_of(st.integers(-(10**20), 10**20), st.text(max_size=3), st.floats()),
        "wap_url": st.one_of(
            st.sampled_from(
                [
                    "javascript:alert(1)",
                    "JaVaScRiPt:alert(1)",
                    "data:text/html,<b>x</b>",
                    "https://shop.example/a",
                    "http://shop.example/\x00",
                    "https://" + "a" * 400,
                    "ftp://x",
                    "//shop.example",
                ]
            ),
            text,
            st.integers(),
        ),
        "priority": st.one_of(st.sampled_from(["high", "normal", "low"]), text, st.integers()),
        "kind": st.one_of(st.sampled_from(["marketing", "transactional"]), text, st.none()),
        "metadata": st.one_of(
            st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
            st.lists(st.integers(), max_size=2),
            st.just({"x": object()}),
            st.just({"big": "x" * 9_000}),
            st.just({"nul": "a\x00b"}),
            text,
        ),
        "tags": st.one_of(
            st.lists(st.text(max_size=70), max_size=25), text, st.lists(st.integers(), max_size=2)
        ),
        "allow_duplicate": st.one_of(st.booleans(), st.sampled_from(["yes", 1, None])),
    },
)


HOSTILE = hypothesis_settings(FUZZ, max_examples=300)
# About a third of the calls are valid, so the run also shows what is accepted.
fuzzed_to = st.one_of(valid_number, st.lists(valid_number, min_size=1, max_size=3), hostile_to)
fuzzed_body = st.one_of(
    st.sampled_from(["Your code is 1234", "你好，包裹到了", "Sale today"]), hostile_body
)
fuzzed_key = st.one_of(st.none(), st.uuids().map(str), hostile_key)
fuzzed_options = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {},
        optional={
            "encoding": st.sampled_from(["ASCII", "BIG5", "UCS2"]),
            "reply": st.booleans(),
            "priority": st.sampled_from(["high", "normal", "low"]),
            "kind": st.sampled_from(["marketing", "transactional"]),
            "tags": st.lists(st.sampled_from(["a", "b"]), max_size=2),
            "allow_duplicate": st.booleans(),
        },
    ),
    hostile_options,
)


def test_send_sms_hostile_inputs_typed_errors_nothing_stored_nothing_sent(
    gateway: Any, configure: Callable[..., None], figures: Callable[..., None]
) -> None:
    from tests.core.conftest import send_requests

    configure(DISPATCH="inline")  # a stored message is sent at once: a refusal must not be
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []

    @HOSTILE
    @given(to=fuzzed_to, body=fuzzed_body, key=fuzzed_key, options=fuzzed_options)
    def check(to: Any, body: Any, key: Any, options: dict[str, Any]) -> None:
        before = (Message.objects.count(), Recipient.objects.count(), len(send_requests(gateway)))
        refused: SmsgoError | None = None
        try:
            message = send_sms(to, body, idempotency_key=key, **options)
        except SmsgoError as exc:
            refused = exc
        except Exception as exc:  # the defect this run looks for
            wrong.append(f"{type(exc).__name__}: {exc}"[:200])
            raise AssertionError(
                f"{type(exc).__name__} is not an SmsgoError: {exc!r} for "
                f"to={to!r} body={body!r} key={key!r} options={options!r}"
            ) from exc
        if refused is not None:
            outcomes[type(refused).__name__] += 1
            after = (
                Message.objects.count(),
                Recipient.objects.count(),
                len(send_requests(gateway)),
            )
            # A Python caller may be shown the repr of the value it passed; a page may not.
            assert str(refused), repr(refused)
            assert after == before, f"refused but stored or sent: {refused}"
            return
        outcomes["stored"] += 1
        stored = Recipient.objects.filter(message=message).count()
        assert stored == message.recipient_count > 0

    check()
    figures(
        "fuzz: send_sms() hostile numbers, bodies, keys and options",
        calls=sum(outcomes.values()),
        outcomes=dict(outcomes.most_common()),
        untyped_errors=len(wrong),
    )
    assert wrong == []


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), text)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
API_FIELDS = [
    "to",
    "body",
    "encoding",
    "send_at",
    "expires_at",
    "reply",
    "reply_days",
    "wap_url",
    "priority",
    "idempotency_key",
    "allow_duplicate",
    "kind",
    "metadata",
    "tags",
]


def _api_value(field: str) -> st.SearchStrategy[Any]:
    plausible_values: dict[str, st.SearchStrategy[Any]] = {
        "to": st.lists(st.one_of(valid_number, st.sampled_from(LOOK_ALIKES), text), max_size=4),
        "body": hostile_body.filter(lambda b: not isinstance(b, bytes)),
        "send_at": st.sampled_from(["2030-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "x", ""]),
        "wap_url": st.sampled_from(["javascript:alert(1)", "https://shop.example/a", ""]),
        "idempotency_key": hostile_key.filter(lambda k: not isinstance(k, int)),
    }
    return st.one_of(plausible_values.get(field, json_leaf), json_values)


def test_api_hostile_bodies_answer_400_store_nothing_send_nothing(
    gateway: Any,
    configure: Callable[..., None],
    settings: Any,
    figures: Callable[..., None],
) -> None:
    import base64
    import json

    from django.contrib.auth.models import Permission, User

    from tests.core.conftest import send_requests

    settings.ROOT_URLCONF = "tests.reliability.urls"
    configure(DISPATCH="inline", API_SEND_THROTTLE_RATE=None)  # every request reaches the view
    user = User.objects.create_user("fuzzer", password="fuzz-pw-0")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_smsgo", codename="send_sms")
    )
    auth = "Basic " + base64.b64encode(b"fuzzer:fuzz-pw-0").decode()
    client = Client(raise_request_exception=False)
    answers: Counter[int] = Counter()

    @hypothesis_settings(HOSTILE, max_examples=200)
    @given(
        payload=st.one_of(
            st.fixed_dictionaries(
                {"to": _api_value("to"), "body": _api_value("body")},
                optional={f: _api_value(f) for f in API_FIELDS[2:]},
            ),
            json_values,
        ),
        header_key=st.one_of(st.none(), st.sampled_from(["", " ", "k" * 300, "order-9"])),
        raw=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=80)),
        deep=st.one_of(st.none(), st.integers(50, 1_500)),
    )
    def check(payload: Any, header_key: str | None, raw: bytes | None, deep: int | None) -> None:
        if deep is not None:
            content = b'{"to": ' + b"[" * deep + b"]" * deep + b', "body": "x"}'
        elif raw is not None:
            content = raw
        else:
            content = json.dumps(payload).encode()
        headers = {"HTTP_AUTHORIZATION": auth}
        if header_key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = header_key
        before = (Message.objects.count(), Recipient.objects.count(), len(send_requests(gateway)))
        response = client.generic(
            "POST",
            "/smsgo/api/messages/",
            content,
            content_type="application/json",
            **headers,
        )
        answers[response.status_code] += 1
        assert response.status_code < 500, (content[:300], response.content[:300])
        if response.status_code not in (200, 201):
            after = (
                Message.objects.count(),
                Recipient.objects.count(),
                len(send_requests(gateway)),
            )
            assert after == before, (content[:300], response.status_code)
            assert b" object at 0x" not in response.content
            assert b"Traceback" not in response.content

    check()
    figures(
        "fuzz: API POST messages/ hostile bodies",
        requests=sum(answers.values()),
        answers=dict(sorted(answers.items())),
        server_errors=sum(n for code, n in answers.items() if code >= 500),
    )

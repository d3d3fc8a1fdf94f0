"""No input makes the simulator answer HTTP 500 or hang up: every request gets a documented answer.

A property over arbitrary query strings for each of the five endpoints, and
the inputs that used to crash it (a Unicode digit passes ``str.isdigit()``
but not ``int()``).
"""

from __future__ import annotations

import http.client
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from django_smsgo.simulator import Account, Simulator, SimulatorConfig
from django_smsgo.simulator.faults import ENDPOINTS

from .conftest import PASSWORD, USERNAME, Call, plain

TABLE_1_CODES = set(range(-10, 1))
CONTENT_TYPES = {"text/plain", "application/json", "text/xml"}
PARAMETERS = (
    "username",
    "password",
    "dstaddr",
    "staddr",
    "smbody",
    "smbdy",
    "encoding",
    "dlvtime",
    "wapurl",
    "replyurl",
    "replydays",
    "response",
    "rtype",
    "msgid",
)
#: Values that reach the corners: other scripts' digits, huge numbers, near-valid forms.
AWKWARD = (
    "",
    " ",
    "²",
    "١٢",
    "１２３",
    "0912345678",
    "０９１２３４５６７８",
    "0912345678,",
    ",",
    "+8613681912700",
    "+",
    "9" * 5000,
    "-1",
    "1e9",
    "nan",
    "2031/01/05 09:05:00",
    "2031/1/5 9:05:00",
    "9999/12/31 23:59:59",
    "0001/01/01 00:00:00",
    "JSON",
    "XML",
    "json",
    "PUSH",
    "LBIG5",
    "http://127.0.0.1:9/r",
    "\x00",
    "|",
    "\r\n",
    "<x>&amp;",
    '"},]}}',
)
CREDENTIALS = f"username={USERNAME}&password={quote(PASSWORD)}"
RAW_TAILS = ("", "&", "&&=", "%", "%zz", "%e4%b8", "=x", ";a=b", "+", "a=%ff%fe")


def _encode(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(value, safe="", errors="surrogateescape")


#: Digits of every script, and characters such as "²" that ``str.isdigit()`` takes for digits
#: but ``int()`` does not.
digits = st.text(
    st.one_of(st.characters(categories=("Nd",)), st.sampled_from("0123456789²³¹①⑴⒈")),
    min_size=1,
    max_size=24,
)
anything = st.one_of(st.sampled_from(AWKWARD), digits, st.text(max_size=40), st.binary(max_size=20))
#: Each known parameter present or not, with any value; then a few unknown ones. The
#: credentials are drawn apart, and rtype mostly names a format so that all three are met.
known = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(PARAMETERS[2:], anything),
        "rtype": st.one_of(st.sampled_from(["JSON", "XML", "json", "Xml"]), anything),
    },
)
unknown = st.lists(st.tuples(st.text(max_size=8), anything), max_size=3)
credentials = st.sampled_from(
    [[("username", USERNAME), ("password", PASSWORD)]] * 3
    + [[], [("username", USERNAME), ("password", "²")]]
)


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    """A query string: usually the right credentials, then anything, then raw junk."""
    fields: list[tuple[str, str | bytes]] = list(draw(credentials))
    fields += list(draw(known).items()) + draw(unknown)
    query = "&".join(f"{_encode(key)}={_encode(value)}" for key, value in fields)
    return query + draw(st.sampled_from(RAW_TAILS))


@pytest.fixture(scope="module")
def gateway() -> Iterator[Simulator]:
    # Nothing turns final, so no report is ever sent to a URL an example made up.
    config = SimulatorConfig(delivery_delay=10**9, callback_retry_delay=0)
    with Simulator([Account(USERNAME, PASSWORD, 10**9)], config) as simulator:
        yield simulator


def get(simulator: Simulator, path: str) -> tuple[int, str, bytes]:
    """One GET on a fresh connection; a hang-up raises, so it fails the property."""
    connection = http.client.HTTPConnection("127.0.0.1", simulator.server.port, timeout=30)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type", ""), answer.read()
    finally:
        connection.close()


def statuscodes(endpoint: str, content_type: str, body: bytes) -> list[int]:
    """The statuscode(s) of an answer, read the strict way for its format."""
    if content_type == "application/json":
        text = body.decode("utf-8")
        if text.endswith("},]}}"):  # the document's query form
            text = text[: -len("},]}}")] + "}]}}"
        data = json.loads(text)
        rows = data["results"]["result"] if "results" in data else [data["result"]]
        return [int(row.get("statuscode", row.get("statusCode"))) for row in rows]
    if content_type == "text/xml":
        root = ET.fromstring(body)  # noqa: S314 - the simulator's own answer
        names = ("statuscode", "statusCode")
        return [int(e.text or "") for e in root.iter() if e.tag in names]
    text = body.decode("utf-8", "surrogateescape")
    if endpoint in ("query.asp", "queryBulk.asp"):
        match = re.match(r"(-?\d+)\|", text)
    elif endpoint == "sendsms.aspx":
        match = re.fullmatch(
            r"msgid=-?\d+\nstatuscode=(-?\d+)\nstatusstr=[^\n]+\npoint=\d+\n", text
        )
    else:  # balance and cancel end with statuscode and statusstr lines of our own
        match = re.search(r"(?:^|\n)statuscode=(-?\d+)\nstatusstr=[^\n]+\n(?:point=\d+\n)?\Z", text)
    assert match, text
    return [int(match.group(1))]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=query_strings(), strict_json=st.booleans())
# The crashes found so far, always tried first.
@example(query=f"{CREDENTIALS}&msgid=%C2%B2&dstaddr=0912345678", strict_json=False)
@example(query=f"{CREDENTIALS}&msgid=%C2%B2&rtype=JSON", strict_json=False)
@example(
    query=f"{CREDENTIALS}&dstaddr=0912345678&smbody=x&replyurl=http://v/r&replydays=%C2%B2",
    strict_json=False,
)
def test_every_query_string_gets_a_documented_answer(
    gateway: Simulator, endpoint: str, query: str, strict_json: bool
) -> None:
    gateway.state.config.strict_json = strict_json
    status, content_type, body = get(gateway, f"/sms_gw/{endpoint}?{query}")
    assert status == 200, body
    media_type = content_type.split(";")[0]
    assert media_type in CONTENT_TYPES
    codes = statuscodes(endpoint, media_type, body)
    assert codes
    assert set(codes) <= TABLE_1_CODES, body


MALFORMED = "CGI string error!!"
HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("endpoint", "params", "answer"),
    [
        ("query.asp", {"msgid": "²", "dstaddr": "0912345678"}, f"-1|{MALFORMED}|0912345678"),
        (
            "queryBulk.asp",
            {"msgid": "²", "dstaddr": "0912345678"},
            f"-1|{MALFORMED}|0912345678|²",
        ),
        (
            "queryBulk.asp",
            {"msgid": "1,²", "dstaddr": "0912345678"},
            f"-1|CGI string error or Unknow|0912345678|1\r\n-1|{MALFORMED}|0912345678|²",
        ),
        ("sendsms_cancel.asp", {"msgid": "²"}, f"msgid=²\nstatuscode=-1\nstatusstr={MALFORMED}\n"),
        (
            "sendsms_cancel.asp",
            {"msgid": "²", "rtype": "JSON"},
            f'{{"result":{{"msgid":-1,"statuscode":"-1","statusstr":"{MALFORMED}"}}}}',
        ),
        (
            "sendsms_cancel.asp",
            {"msgid": HUGE},
            f"msgid={HUGE}\nstatuscode=-1\nstatusstr={MALFORMED}\n",
        ),
        (
            "sendsms_cancel.asp",
            {"msgid": HUGE, "rtype": "JSON"},
            f'{{"result":{{"msgid":-1,"statuscode":"-1","statusstr":"{MALFORMED}"}}}}',
        ),
        ("query.asp", {"msgid": HUGE, "dstaddr": "0912345678"}, f"-1|{MALFORMED}|0912345678"),
    ],
)
def test_unicode_digits_or_a_huge_msgid_are_minus_1_not_a_crash(
    call: Call, endpoint: str, params: dict[str, str], answer: str
) -> None:
    response = call(endpoint, **params)
    assert response.status_code == 200
    assert response.content.decode() == answer


def test_replydays_in_a_unicode_digit_is_minus_1_not_a_crash(call: Call) -> None:
    response = call(
        "sendsms.aspx",
        dstaddr="0912345678",
        smbody="x",
        replyurl="http://v.example/r",
        replydays="²",
    )
    assert response.status_code == 200
    assert plain(response)["statuscode"] == "-1"


@pytest.mark.parametrize("rtype", ["JSON", "XML"])
def test_bytes_that_are_not_utf8_still_give_a_well_formed_answer(
    smsgo_simulator: Simulator, rtype: str
) -> None:
    status, content_type, body = get(
        smsgo_simulator,
        f"/sms_gw/query.asp?username={USERNAME}&password={PASSWORD}"
        f"&msgid=1&dstaddr=09%ff%00&rtype={rtype}",
    )
    assert status == 200
    assert statuscodes("query.asp", content_type.split(";")[0], body) == [-5]

"""query.asp, queryBulk.asp, query_point.asp, sendsms_cancel.asp and the three answer formats."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from django_smsgo.simulator import Simulator, SimulatorConfig
from django_smsgo.simulator.rules import TAIPEI

from .conftest import POINTS, USERNAME, Call, plain

#: Table 1's words for -1, answered when a well-formed request names what the gateway lacks.
UNKNOWN = "CGI string error or Unknow"
B_NUMBER = "B Number違反規則"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def send(call: Call, dstaddr: str = "0912345678", **params: str) -> str:
    answer = plain(
        call("sendsms.aspx", dstaddr=dstaddr, smbody=params.pop("smbody", "hi"), **params)
    )
    assert answer["statuscode"] == "0", answer
    return answer["msgid"]


def xml_root(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - the simulator's own answer


def taipei(delta: timedelta) -> str:
    return (datetime.now(TAIPEI) + delta).strftime("%Y/%m/%d %H:%M:%S")


@pytest.fixture
def smsgo_simulator_config() -> SimulatorConfig:
    # Nothing turns final unless a test advances the clock.
    return SimulatorConfig(delivery_delay=3600, callback_retry_delay=0)


def test_query_is_enroute_then_final(call: Call, smsgo_simulator: Simulator) -> None:
    msgid = send(call)
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|ENROUTE|0912345678"
    assert smsgo_simulator.advance() == 1
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|DELIVRD|0912345678"


def test_delivery_delay_passes_on_the_simulated_clock(
    call: Call, smsgo_simulator: Simulator
) -> None:
    msgid = send(call)
    smsgo_simulator.state.move_clock(3599)  # just before the delay is over
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|ENROUTE|0912345678"
    smsgo_simulator.state.move_clock(2)
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|DELIVRD|0912345678"


def test_scheduled_before_dlvtime_then_enroute(call: Call, smsgo_simulator: Simulator) -> None:
    msgid = send(call, dlvtime=taipei(timedelta(hours=2)))
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|SCHEDULED|0912345678"
    smsgo_simulator.state.move_clock(2 * 3600 + 1)
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|ENROUTE|0912345678"
    smsgo_simulator.advance()
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|DELIVRD|0912345678"


def test_dlvtime_is_taipei_time(call: Call, smsgo_simulator: Simulator) -> None:
    msgid = send(call, dlvtime="2040/01/02 08:00:00")
    expected = datetime(2040, 1, 2, 0, 0, 0, tzinfo=UTC).timestamp()
    assert smsgo_simulator.message(msgid).due_at == expected


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("0912345600", "DELIVRD"),
        ("0912345691", "UNDELIV"),
        ("0912345692", "ABSENT"),
        ("0912345693", "EXPIRED"),
        ("0912345694", "REJECTD"),
        ("0912345695", "DELETED"),
        ("0912345696", "SPAM"),
        ("0912345697", "BLOCK"),
        ("0912345698", "ACCEPTD"),
        ("0912345699", "ENROUTE"),
        ("+8613681912791", "UNDELIV"),
    ],
)
def test_outcome_rule_on_the_last_two_digits(
    call: Call, smsgo_simulator: Simulator, number: str, status: str
) -> None:
    msgid = send(call, dstaddr=number)
    smsgo_simulator.advance(7200)
    assert call("query.asp", msgid=msgid, dstaddr=number).text == f"0|{status}|{number}"


def test_outcome_override_per_number(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.set_outcome("0912345678", "SYNTAXE")
    smsgo_simulator.set_outcome("0912345600", None)
    msgid = send(call, dstaddr="0912345678,0912345600")
    smsgo_simulator.advance(7200)
    text = call("queryBulk.asp", msgid=msgid, dstaddr="0912345678,0912345600").text
    assert text == f"0|SYNTAXE|0912345678|{msgid}\r\n0|ENROUTE|0912345600|{msgid}"


def test_query_bulk_pairs_msgids_and_numbers_by_position(
    call: Call, smsgo_simulator: Simulator
) -> None:
    first = send(call, dstaddr="0912345678")
    second = send(call, dstaddr="0912345691")
    smsgo_simulator.advance()
    text = call("queryBulk.asp", msgid=f"{first},{second}", dstaddr="0912345678,0912345691").text
    assert text.split("\r\n") == [
        f"0|DELIVRD|0912345678|{first}",
        f"0|UNDELIV|0912345691|{second}",
    ]


def test_query_bulk_mismatched_lists_are_minus_1(call: Call) -> None:
    text = call("queryBulk.asp", msgid="1,2", dstaddr="0912345678,0912345679,0912345670").text
    assert text.startswith("-1|")


def test_unknown_msgid_or_number_is_minus_1_in_table_1s_words(call: Call) -> None:
    msgid = send(call)
    assert call("query.asp", msgid=msgid, dstaddr="0922222222").text == f"-1|{UNKNOWN}|0922222222"
    assert call("query.asp", msgid="999", dstaddr="0912345678").text == f"-1|{UNKNOWN}|0912345678"


def test_query_without_dstaddr_answers_every_receiver(
    call: Call, smsgo_simulator: Simulator
) -> None:
    # The document's own JSON example queries with msgid alone and gets a row.
    msgid = send(call, dstaddr="0912345678,0912345691")
    smsgo_simulator.advance()
    assert call("query.asp", msgid=msgid).text == ("0|DELIVRD|0912345678\r\n0|UNDELIV|0912345691")
    assert call("query.asp", msgid=msgid, dstaddr="").text == (
        "0|DELIVRD|0912345678\r\n0|UNDELIV|0912345691"
    )
    assert call("query.asp", msgid=msgid, rtype="JSON").text == (
        '{"results":{"result":['
        '{"statusCode": "0","statusStr":"DELIVRD","cellphone":"0912345678"},'
        '{"statusCode": "0","statusStr":"UNDELIV","cellphone":"0912345691"},'
        "]}}"
    )


def test_query_without_dstaddr_of_an_unknown_msgid(call: Call) -> None:
    assert call("query.asp", msgid="999").text == f"-1|{UNKNOWN}|"


@pytest.mark.parametrize("msgid", ["", "abc", "²", "１２３", "1" * 5000, "-1", "1.5"])
def test_query_with_a_malformed_msgid_is_the_cgi_string_error(call: Call, msgid: str) -> None:
    response = call("query.asp", msgid=msgid, dstaddr="0912345678")
    assert response.status_code == 200
    assert response.text == "-1|CGI string error!!|0912345678"


def test_a_msgid_in_full_width_digits_is_not_the_message(
    call: Call, smsgo_simulator: Simulator
) -> None:
    msgid = send(call, dlvtime=taipei(timedelta(days=1)))
    wide = msgid.translate(FULL_WIDTH)
    assert call("query.asp", msgid=wide, dstaddr="0912345678").text.startswith("-1|")
    assert call("queryBulk.asp", msgid=wide, dstaddr="0912345678").text.startswith("-1|")
    assert plain(call("sendsms_cancel.asp", msgid=wide))["statuscode"] == "-1"
    assert smsgo_simulator.message(msgid).cancelled is False


def test_a_number_in_full_width_digits_is_minus_5(call: Call) -> None:
    msgid = send(call)
    wide = "0912345678".translate(FULL_WIDTH)
    assert call("query.asp", msgid=msgid, dstaddr=wide).text == f"-5|{B_NUMBER}|{wide}"
    assert call("queryBulk.asp", msgid=msgid, dstaddr=f"0912345678,{wide}").text == (
        f"0|ENROUTE|0912345678|{msgid}\r\n-5|{B_NUMBER}|{wide}|{msgid}"
    )


def test_another_accounts_message_is_not_found(call: Call, smsgo_simulator: Simulator) -> None:
    msgid = send(call)
    smsgo_simulator.add_account("other", "pw", 10)
    text = call(
        "query.asp", username="other", password="pw", msgid=msgid, dstaddr="0912345678"
    ).text
    assert text == f"-1|{UNKNOWN}|0912345678"


def test_query_with_bad_credentials_is_minus_2(call: Call) -> None:
    msgid = send(call)
    assert call("query.asp", password="x", msgid=msgid, dstaddr="0912345678").text.startswith("-2|")


def test_query_json_is_the_documents_example_byte_for_byte(
    call: Call, smsgo_simulator: Simulator
) -> None:
    msgid = send(call)
    smsgo_simulator.advance()
    response = call("query.asp", msgid=msgid, dstaddr="0912345678", rtype="JSON")
    assert response.text == (
        '{"results":{"result":[{"statusCode": "0","statusStr":"DELIVRD",'
        '"cellphone":"0912345678"},]}}'
    )
    # Python 3.13 names the trailing comma; older versions say "Expecting value".
    with pytest.raises(ValueError, match=r"Expecting|trailing comma"):
        json.loads(response.text)


def test_strict_json_option_answers_valid_json(call: Call, smsgo_simulator: Simulator) -> None:
    smsgo_simulator.state.config.strict_json = True
    msgid = send(call, dstaddr="0912345678,0922345678")
    smsgo_simulator.advance()
    assert call("query.asp", msgid=msgid, dstaddr="0912345678", rtype="JSON").json() == {
        "results": {
            "result": [{"statusCode": "0", "statusStr": "DELIVRD", "cellphone": "0912345678"}]
        }
    }
    bulk = call("queryBulk.asp", msgid=msgid, dstaddr="0912345678,0922345678", rtype="JSON")
    assert [row["cellphone"] for row in bulk.json()["results"]["result"]] == [
        "0912345678",
        "0922345678",
    ]
    assert call("query_point.asp", rtype="JSON").json() == {
        "results": {"result": [{"statuscode": "0", "point": str(POINTS - 2)}]}
    }


def test_stray_spaces_option_reproduces_the_worked_answers(
    call: Call, smsgo_simulator: Simulator
) -> None:
    smsgo_simulator.state.config.stray_spaces = True
    response = call("sendsms.aspx", dstaddr="0912345678", smbody="x")
    assert response.text.startswith("msgid= ")
    msgid = response.text.split("\n")[0].split("= ")[1]
    assert call("queryBulk.asp", msgid=msgid, dstaddr="0912345678").text.endswith(
        f"0912345678 |{msgid}"
    )


def test_send_json_msgid_is_a_number_statuscode_a_string(call: Call) -> None:
    response = call("sendsms.aspx", dstaddr="0912345678", smbody="x", rtype="JSON")
    data = response.json()
    assert response.headers["Content-Type"].startswith("application/json")
    result = data["result"]
    assert isinstance(result["msgid"], int)
    assert len(str(result["msgid"])) == 16
    assert result | {"msgid": 0} == {"msgid": 0, "statuscode": "0", "statusstr": "OK", "point": 1}
    assert response.text == (
        f'{{"result":{{"msgid":{result["msgid"]},"statuscode":"0","statusstr":"OK","point":1}}}}'
    )


def test_send_json_error(call: Call) -> None:
    data = call("sendsms.aspx", dstaddr="0912345678", smbody="", rtype="json").json()
    assert data == {
        "result": {"msgid": -1, "statuscode": "-1", "statusstr": "CGI string error!!", "point": 0}
    }


def test_send_xml_mirrors_the_json(call: Call) -> None:
    root = xml_root(call("sendsms.aspx", dstaddr="0912345678", smbody="x", rtype="XML").content)
    assert root.tag == "result"
    assert [child.tag for child in root] == ["msgid", "statuscode", "statusstr", "point"]
    assert (root.findtext("statuscode"), root.findtext("point")) == ("0", "1")


def test_query_bulk_xml_lists_results(call: Call) -> None:
    msgid = send(call, dstaddr="0912345678,0922345678")
    root = xml_root(
        call("queryBulk.asp", msgid=msgid, dstaddr="0912345678,0922345678", rtype="XML").content
    )
    assert root.tag == "results"
    assert [r.findtext("cellphone") for r in root.iter("result")] == ["0912345678", "0922345678"]
    assert {r.findtext("msgid") for r in root.iter("result")} == {msgid}


def test_balance_json_plain_and_xml(call: Call) -> None:
    send(call)
    # Exactly the document's example, spaces after the colons included.
    assert call("query_point.asp", rtype="JSON").text == (
        f'{{"results":{{"result":[{{"statuscode": "0","point": "{POINTS - 1}"}}]}}}}'
    )
    assert plain(call("query_point.asp")) == {
        "statuscode": "0",
        "statusstr": "OK",
        "point": str(POINTS - 1),
    }
    root = xml_root(call("query_point.asp", rtype="XML").content)
    assert root.find("result/point").text == str(POINTS - 1)  # type: ignore[union-attr]


def test_balance_with_bad_credentials_adds_no_undocumented_field(call: Call) -> None:
    assert call("query_point.asp", password="x", rtype="JSON").text == (
        '{"results":{"result":[{"statuscode": "-2"}]}}'
    )
    root = xml_root(call("query_point.asp", password="x", rtype="XML").content)
    assert [child.tag for child in root.find("result")] == ["statuscode"]  # type: ignore[union-attr]


def test_cancel_a_scheduled_send_refunds_its_points(call: Call, smsgo_simulator: Simulator) -> None:
    msgid = send(call, dstaddr="0912345678,0922345678", dlvtime=taipei(timedelta(days=1)))
    assert smsgo_simulator.balance(USERNAME) == POINTS - 2
    response = call("sendsms_cancel.asp", msgid=msgid)
    assert response.text == f"msgid={msgid}\nstatuscode=0\nstatusstr=OK\n"
    assert smsgo_simulator.balance(USERNAME) == POINTS
    # Table 2's DELETED, not a state of our own.
    assert call("query.asp", msgid=msgid, dstaddr="0912345678").text == "0|DELETED|0912345678"
    assert call("query.asp", msgid=msgid).text == "0|DELETED|0912345678\r\n0|DELETED|0922345678"
    smsgo_simulator.advance(2 * 86400)
    assert smsgo_simulator.state.audit.deliveries == []
    assert {r.status for r in smsgo_simulator.message(msgid).receivers.values()} == {"DELETED"}
    again = plain(call("sendsms_cancel.asp", msgid=msgid))
    assert again == {"msgid": msgid, "statuscode": "-1", "statusstr": UNKNOWN}
    assert smsgo_simulator.requests[-1]["reason"] == f"msgid {msgid} is already cancelled"
    assert smsgo_simulator.balance(USERNAME) == POINTS


def test_cancel_after_due_is_refused(call: Call, smsgo_simulator: Simulator) -> None:
    msgid = send(call)
    answer = plain(call("sendsms_cancel.asp", msgid=msgid, rtype=None))
    assert (answer["statuscode"], answer["statusstr"]) == ("-1", UNKNOWN)
    assert "already due" in smsgo_simulator.requests[-1]["reason"]
    assert smsgo_simulator.balance(USERNAME) == POINTS - 1


def test_cancel_unknown_msgid_json(call: Call) -> None:
    data = call("sendsms_cancel.asp", msgid="123456789012345", rtype="JSON").json()
    assert data == {"result": {"msgid": 123456789012345, "statuscode": "-1", "statusstr": UNKNOWN}}


def test_paths_are_case_insensitive_like_iis(call: Call) -> None:
    assert call("QUERY_POINT.ASP").text.startswith("statuscode=0")


def test_unknown_path_is_404(call: Call) -> None:
    assert call("nothing.asp").status_code == 404

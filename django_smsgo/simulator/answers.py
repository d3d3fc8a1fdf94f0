"""The gateway's answers in its three formats: plain text (default), JSON and XML.

By default every documented answer is the document's example byte for byte:
the query JSON with its trailing comma before ``]`` and the spaces after some
colons, the balance JSON with exactly ``statuscode`` and ``point``. That is what
users' parsers meet in production. ``strict_json`` answers valid, compact JSON
instead; ``stray_spaces`` reproduces the worked plain answers' spaces. XML
(never shown by the vendor) mirrors the JSON element for element.

Plain text carries bytes that were not UTF-8 back as they came; JSON and XML
carry them as U+FFFD, so that those answers are always well-formed.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

from . import rules
from .gateway import BalanceResult, CancelResult, QueryResult, QueryRow, Result, SendResult
from .records import SimulatorConfig

PLAIN = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"
CONTENT_TYPES = {"PLAIN": PLAIN, "JSON": JSON, "XML": XML}

Answer = tuple[str, bytes]

#: Characters XML 1.0 cannot carry: answered as U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def answer_format(rtype: str | None, case_sensitive: bool = False) -> str:
    """``JSON``, ``XML`` or ``PLAIN`` for the request's ``rtype`` (unknown: plain)."""
    value = (rtype or "").strip()
    if not case_sensitive:
        value = value.upper()
    return value if value in ("JSON", "XML") else "PLAIN"


def render(result: Result, fmt: str, config: SimulatorConfig, bulk: bool = False) -> Answer:
    """The answer body for ``result`` in format ``fmt``, with its content type."""
    if isinstance(result, SendResult):
        body = _send(result, fmt, config)
    elif isinstance(result, QueryResult):
        body = _query(result, fmt, config, bulk)
    elif isinstance(result, BalanceResult):
        body = _balance(result, fmt, config)
    else:
        body = _cancel(result, fmt, config)
    return content_type(fmt, config), body


def content_type(fmt: str, config: SimulatorConfig) -> str:
    """The Content-Type of an answer in ``fmt``: by format, or the one configured for all."""
    return config.content_type or CONTENT_TYPES[fmt]


def _send(result: SendResult, fmt: str, config: SimulatorConfig) -> bytes:
    # A refusal has its code in msgid too (history 2.10: "error codes (msgid) -9, -10";
    # FAQ 7: msgid=-1 with statuscode=-1).
    msgid = result.msgid if result.msgid is not None else result.code
    fields = {
        "msgid": msgid,
        "statuscode": str(result.code),
        "statusstr": result.statusstr,
        "point": result.points,
    }
    if fmt == "JSON":
        return _json({"result": fields})
    if fmt == "XML":
        return _xml("result", fields)
    space = " " if config.stray_spaces else ""
    text = f"msgid={space}{msgid}\nstatuscode={result.code}\nstatusstr={result.statusstr}\n"
    return _plain(text + f"point={result.points}\n")


def _row_fields(row: QueryRow, bulk: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "statusCode": str(row.code),
        "statusStr": row.statusstr,
        "cellphone": row.phone,
    }
    if bulk:
        fields["msgid"] = row.msgid
    return fields


def _query(result: QueryResult, fmt: str, config: SimulatorConfig, bulk: bool) -> bytes:
    items = [_row_fields(row, bulk) for row in result.rows]
    if fmt == "JSON" and config.strict_json:
        return _json({"results": {"result": items}})
    if fmt == "JSON":
        # The document's example: {"statusCode": "0","statusStr":"DELIVRD","cellphone":"…"},
        # each result followed by a comma, the last one too.
        rows = "".join(
            '{"statusCode": '
            + ",".join([_json_value(item.pop("statusCode")), *_json_members(item)])
            + "},"
            for item in items
        )
        return f'{{"results":{{"result":[{rows}]}}}}'.encode()
    if fmt == "XML":
        inner = "".join(_xml_element("result", item) for item in items)
        return _xml_document(f"<results>{inner}</results>")
    space = " " if config.stray_spaces else ""
    lines = []
    for row in result.rows:
        line = f"{row.code}|{row.statusstr}|{row.phone}"
        lines.append(f"{line}{space}|{row.msgid}" if bulk else line)
    return _plain("\r\n".join(lines))


def _balance(result: BalanceResult, fmt: str, config: SimulatorConfig) -> bytes:
    # The document shows exactly statuscode and point; a refusal has no balance to state,
    # so it is the statuscode alone (the document shows no refusal).
    fields: dict[str, Any] = {"statuscode": str(result.code)}
    if result.code == 0:
        fields["point"] = str(result.points)
    if fmt == "JSON" and config.strict_json:
        return _json({"results": {"result": [fields]}})
    if fmt == "JSON":
        # The document's example: {"statuscode": "0","point": "6220"} (a space after ":").
        members = ",".join(f"{_json_value(k)}: {_json_value(v)}" for k, v in fields.items())
        return f'{{"results":{{"result":[{{{members}}}]}}}}'.encode()
    if fmt == "XML":
        return _xml_document(f"<results>{_xml_element('result', fields)}</results>")
    text = f"statuscode={result.code}\nstatusstr={result.statusstr}\npoint={result.points}\n"
    return _plain(text)


def _cancel(result: CancelResult, fmt: str, config: SimulatorConfig) -> bytes:
    # Undocumented: shaped like send's answer, without point. A refusal echoes the msgid
    # asked, or answers its code like a refused send (cancel_error_msgid = "code").
    echo = result.code == 0 or config.cancel_error_msgid == "echo"
    msgid: int | str = result.msgid if echo else result.code
    if fmt == "JSON":
        number = rules.parse_msgid(str(msgid)) if echo else result.code
        fields = {
            "msgid": -1 if number is None else number,
            "statuscode": str(result.code),
            "statusstr": result.statusstr,
        }
        return _json({"result": fields})
    fields = {"msgid": msgid, "statuscode": result.code, "statusstr": result.statusstr}
    if fmt == "XML":
        return _xml("result", fields)
    return _plain(f"msgid={msgid}\nstatuscode={result.code}\nstatusstr={result.statusstr}\n")


def error_answer(
    endpoint: str, code: int, fmt: str, config: SimulatorConfig, msgid: str = ""
) -> Answer:
    """A forced gateway ``code`` answered the way ``endpoint`` answers errors.

    Queries answer one row without a number (a refusal of the whole request);
    a cancel echoes the ``msgid`` asked, as its own refusals do.
    """
    text = rules.status_text(code)
    result: Result
    if endpoint == "sendsms.aspx":
        result = SendResult(code, text)
    elif endpoint in ("query.asp", "queryBulk.asp"):
        result = QueryResult([QueryRow(code, text, "", "")])
    elif endpoint == "query_point.asp":
        result = BalanceResult(code, text)
    else:
        result = CancelResult(code, text, msgid)
    return render(result, fmt, config, bulk=endpoint == "queryBulk.asp")


#: What a broken gateway answers: an HTML error page that no parser reads as an answer.
GARBAGE = (
    b"<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/sms_gw'"
    b" Application.<br><hr><p>\xff\xfe\x00 ASP 0113 Script timed out</body>"
)


def _plain(text: str) -> bytes:
    # Surrogate escapes are the request's bytes that were not UTF-8: echoed as they came.
    return _bytes(text)


def _bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        return text.encode("utf-8", "surrogatepass")


def _utf8(value: Any) -> Any:
    """``value`` with the bytes that were not UTF-8 as U+FFFD (strings only)."""
    return _bytes(value).decode("utf-8", "replace") if isinstance(value, str) else value


def _xml_text(value: Any) -> str:
    return escape(_NOT_XML.sub("\ufffd", str(_utf8(value))))


def _json_value(value: Any) -> str:
    return json.dumps(_utf8(value), ensure_ascii=False)


def _json_members(fields: dict[str, Any]) -> list[str]:
    return [f"{_json_value(key)}:{_json_value(value)}" for key, value in fields.items()]


def _json(data: Any) -> bytes:
    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: clean(value) for key, value in node.items()}
        if isinstance(node, list):
            return [clean(item) for item in node]
        return _utf8(node)

    return json.dumps(clean(data), ensure_ascii=False, separators=(",", ":")).encode()


def _xml_element(name: str, fields: dict[str, Any]) -> str:
    inner = "".join(f"<{key}>{_xml_text(value)}</{key}>" for key, value in fields.items())
    return f"<{name}>{inner}</{name}>"


def _xml_document(root: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>' + root).encode()


def _xml(name: str, fields: dict[str, Any]) -> bytes:
    return _xml_document(_xml_element(name, fields))

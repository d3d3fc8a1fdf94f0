"""The gateway's answers in its three formats: plain text (default), JSON and XML.

Plain and JSON follow the document's examples; XML (never shown by the vendor)
mirrors the JSON element for element. Two of the document's quirks can be
reproduced on request: the trailing comma of its query JSON and the stray
spaces of its worked plain answers.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

from .gateway import BalanceResult, CancelResult, QueryResult, QueryRow, Result, SendResult
from .records import SimulatorConfig

PLAIN = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"

Answer = tuple[str, bytes]


def answer_format(rtype: str | None) -> str:
    """``JSON``, ``XML`` or ``PLAIN`` for the request's ``rtype`` (any case; unknown: plain)."""
    value = (rtype or "").strip().upper()
    return value if value in ("JSON", "XML") else "PLAIN"


def render(result: Result, fmt: str, config: SimulatorConfig, bulk: bool = False) -> Answer:
    """The answer body for ``result`` in format ``fmt``, with its content type."""
    if isinstance(result, SendResult):
        return _send(result, fmt, config)
    if isinstance(result, QueryResult):
        return _query(result, fmt, config, bulk)
    if isinstance(result, BalanceResult):
        return _balance(result, fmt)
    return _cancel(result, fmt)


def _msgid_number(msgid: int | str | None) -> int:
    return int(msgid) if msgid is not None and str(msgid).isdigit() else -1


def _send(result: SendResult, fmt: str, config: SimulatorConfig) -> Answer:
    msgid = result.msgid if result.msgid is not None else -1
    if fmt == "JSON":
        return JSON, _json(
            {
                "result": {
                    "msgid": msgid,
                    "statuscode": str(result.code),
                    "statusstr": result.statusstr,
                    "point": result.points,
                }
            }
        )
    fields = {
        "msgid": msgid,
        "statuscode": result.code,
        "statusstr": result.statusstr,
        "point": result.points,
    }
    if fmt == "XML":
        return XML, _xml("result", fields)
    space = " " if config.stray_spaces else ""
    text = f"msgid={space}{msgid}\nstatuscode={result.code}\nstatusstr={result.statusstr}\n"
    return PLAIN, (text + f"point={result.points}\n").encode("utf-8", "surrogateescape")


def _query(result: QueryResult, fmt: str, config: SimulatorConfig, bulk: bool) -> Answer:
    items: list[dict[str, Any]] = []
    for row in result.rows:
        item: dict[str, Any] = {
            "statusCode": str(row.code),
            "statusStr": row.statusstr,
            "cellphone": row.phone,
        }
        if bulk:
            item["msgid"] = row.msgid
        items.append(item)
    if fmt == "JSON":
        body = _json({"results": {"result": items}})
        if config.json_trailing_comma:
            body = body.replace(b"}]}}", b"},]}}")
        return JSON, body
    if fmt == "XML":
        inner = "".join(_xml_element("result", item) for item in items)
        return XML, _xml_document(f"<results>{inner}</results>")
    space = " " if config.stray_spaces else ""
    lines = []
    for row in result.rows:
        line = f"{row.code}|{row.statusstr}|{row.phone}"
        lines.append(f"{line}{space}|{row.msgid}" if bulk else line)
    return PLAIN, "\r\n".join(lines).encode("utf-8", "surrogateescape")


def _balance(result: BalanceResult, fmt: str) -> Answer:
    fields: dict[str, Any] = {"statuscode": str(result.code)}
    if result.code != 0:
        fields["statusstr"] = result.statusstr
    fields["point"] = str(result.points)
    if fmt == "JSON":
        return JSON, _json({"results": {"result": [fields]}})
    if fmt == "XML":
        return XML, _xml_document(f"<results>{_xml_element('result', fields)}</results>")
    text = f"statuscode={result.code}\nstatusstr={result.statusstr}\npoint={result.points}\n"
    return PLAIN, text.encode("utf-8", "surrogateescape")


def _cancel(result: CancelResult, fmt: str) -> Answer:
    if fmt == "JSON":
        return JSON, _json(
            {
                "result": {
                    "msgid": _msgid_number(result.msgid),
                    "statuscode": str(result.code),
                    "statusstr": result.statusstr,
                }
            }
        )
    fields = {"msgid": result.msgid, "statuscode": result.code, "statusstr": result.statusstr}
    if fmt == "XML":
        return XML, _xml("result", fields)
    text = f"msgid={result.msgid}\nstatuscode={result.code}\nstatusstr={result.statusstr}\n"
    return PLAIN, text.encode("utf-8", "surrogateescape")


def error_answer(
    endpoint: str, code: int, statusstr: str, fmt: str, config: SimulatorConfig
) -> Answer:
    """A forced gateway ``code`` answered the way ``endpoint`` answers errors."""
    if endpoint == "sendsms.aspx":
        return _send(SendResult(code, statusstr), fmt, config)
    if endpoint in ("query.asp", "queryBulk.asp"):
        return _query(
            QueryResult([QueryRow(code, statusstr, "", "")]),
            fmt,
            config,
            bulk=endpoint == "queryBulk.asp",
        )
    if endpoint == "query_point.asp":
        return _balance(BalanceResult(code, statusstr), fmt)
    return _cancel(CancelResult(code, statusstr, "-1"), fmt)


#: What a broken gateway answers: an HTML error page that no parser reads as an answer.
GARBAGE = (
    b"<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/sms_gw'"
    b" Application.<br><hr><p>\xff\xfe\x00 ASP 0113 Script timed out</body>"
)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogateescape"
    )


def _xml_element(name: str, fields: dict[str, Any]) -> str:
    inner = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in fields.items())
    return f"<{name}>{inner}</{name}>"


def _xml_document(root: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>' + root).encode("utf-8", "surrogateescape")


def _xml(name: str, fields: dict[str, Any]) -> bytes:
    return _xml_document(_xml_element(name, fields))

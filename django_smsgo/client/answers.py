"""Reads the gateway's answers in any of its formats, whatever was asked for.

The format is detected from the content: JSON (``{``/``[``; the document's
own query example has a trailing comma, which is tolerated), XML (``<``),
``key=value`` lines (stray spaces, ``\\n`` or ``\\r\\n``, also ``&``-joined) or
pipe-separated query rows (``statuscode|statusstr|phone[|msgid]``). Keys are
matched without regard to case (``statusCode``/``statuscode``). Anything else
raises :class:`AnswerFormatError`, which the client turns into an
"uncertain outcome" error: an answer we cannot read may still mean "sent".
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any

from django_smsgo.client.digits import ForeignDigitError, ascii_digits

Record = dict[str, str]

_KEY_ALIASES = {"cellphone": "phone", "dstaddr": "phone", "points": "point"}
_PIPE_FIELDS = ("statuscode", "statusstr", "phone", "msgid")
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WHOLE_NUMBER = re.compile(r"[-+]?[0-9]+")


class AnswerFormatError(ValueError):
    """The answer is in none of the gateway's formats, or lacks a field it must have."""


@dataclass(frozen=True)
class StatusAnswer:
    """The ``statuscode``/``statusstr`` part every answer has, plus its other fields."""

    statuscode: int
    statusstr: str
    fields: Record = field(default_factory=dict)

    def get(self, key: str) -> str:
        return self.fields.get(key, "")


def decode(body: bytes) -> str:
    """The answer as text: UTF-8 (with or without BOM), or BIG5 (cp950) from older hosts."""
    for codec in ("utf-8-sig", "cp950"):
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    raise AnswerFormatError("the answer is neither UTF-8 nor BIG5 text")


def read_records(body: bytes) -> list[Record]:
    """Every record of the answer as a dict with lower-case keys, whatever the format."""
    text = decode(body).strip()
    if not text:
        raise AnswerFormatError("the answer is empty")
    if text[0] in "{[":
        records = _json_records(text)
    elif text[0] == "<":
        records = _xml_records(text)
    elif _looks_like_key_value(text):
        records = [_key_value_record(text)]
    elif "|" in text:
        records = _pipe_records(text)
    else:
        raise AnswerFormatError("the answer is not JSON, XML, key=value or pipe-separated")
    records = [record for record in records if record]
    if not records:
        raise AnswerFormatError("the answer holds no fields")
    return records


def _canonical(key: str) -> str:
    key = key.strip().lower()
    if "}" in key:  # an XML namespace
        key = key.rsplit("}", 1)[1]
    return _KEY_ALIASES.get(key, key)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"\r\n|\n|\r", text) if line.strip()]


def _looks_like_key_value(text: str) -> bool:
    first = _lines(text)[0]
    key, sep, _ = first.partition("=")
    return bool(sep) and "|" not in key and bool(_KEY.fullmatch(key.strip()))


def _key_value_record(text: str) -> Record:
    record: Record = {}
    for line in _lines(text):
        for part in line.split("&") if line.count("=") > 1 else [line]:
            key, sep, value = part.partition("=")
            if not sep or not _KEY.fullmatch(key.strip()):
                raise AnswerFormatError("a line of the answer is not key=value")
            record.setdefault(_canonical(key), value.strip())
    return record


def _pipe_records(text: str) -> list[Record]:
    records = []
    for line in _lines(text):
        values = [value.strip() for value in line.split("|")]
        if len(values) < 2 or len(values) > len(_PIPE_FIELDS):
            raise AnswerFormatError("a line of the answer has not 2 to 4 pipe-separated fields")
        records.append(dict(zip(_PIPE_FIELDS, values, strict=False)))
    return records


def _json_records(text: str) -> list[Record]:
    try:
        data = json.loads(text, parse_int=str, parse_float=str)
    except ValueError:
        # The document's own query example: {"result":[{...},]} (trailing comma).
        try:
            data = json.loads(_TRAILING_COMMA.sub(r"\1", text), parse_int=str, parse_float=str)
        except ValueError:
            raise AnswerFormatError("the answer is not valid JSON") from None
    records: list[Record] = []
    _walk_json(data, records)
    return records


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _walk_json(data: Any, records: list[Record]) -> None:
    if isinstance(data, list):
        for item in data:
            _walk_json(item, records)
    elif isinstance(data, dict):
        leaves = {key: value for key, value in data.items() if not isinstance(value, dict | list)}
        if leaves:
            records.append({_canonical(str(key)): _scalar(value) for key, value in leaves.items()})
        for value in data.values():
            if isinstance(value, dict | list):
                _walk_json(value, records)


def _xml_records(text: str) -> list[Record]:
    # The gateway never sends a DTD; refusing one rules out entity expansion.
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise AnswerFormatError("the XML answer declares a DTD")
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 (no DTD: checked above)
    except ElementTree.ParseError:
        raise AnswerFormatError("the answer is not well-formed XML") from None
    records: list[Record] = []
    for element in root.iter():
        children = list(element)
        if children and all(len(child) == 0 for child in children):
            records.append(
                {_canonical(child.tag): (child.text or "").strip() for child in children}
            )
    return records


def _digits(value: str, name: str) -> str:
    """``value`` with full-width digits as ASCII; any other non-ASCII digit is refused."""
    try:
        return ascii_digits(value.strip())
    except ForeignDigitError as error:
        raise AnswerFormatError(f"{name}: {error}") from None


def _int(value: str, name: str) -> int:
    # int() alone would take any Unicode digit and underscores ("1_0").
    text = _digits(value, name)
    if not _WHOLE_NUMBER.fullmatch(text):
        raise AnswerFormatError(f"{name} {value[:40]!r} is not a whole number")
    return int(text)


def _status(record: Record) -> StatusAnswer:
    if "statuscode" not in record:
        raise AnswerFormatError("the answer has no statuscode")
    code = _int(record["statuscode"], "statuscode")
    return StatusAnswer(code, record.get("statusstr", ""), record)


def _first_with_status(body: bytes) -> StatusAnswer:
    for record in read_records(body):
        if "statuscode" in record:
            return _status(record)
    raise AnswerFormatError("the answer has no statuscode")


@dataclass(frozen=True)
class SendAnswer:
    """A send answer: ``msgid`` and ``points`` when ``statuscode`` is 0."""

    statuscode: int
    statusstr: str
    msgid: str = ""
    points: int | None = None


def parse_send(body: bytes) -> SendAnswer:
    """A ``sendsms.aspx`` answer. A success must carry a numeric msgid."""
    answer = _first_with_status(body)
    if answer.statuscode < 0:
        return SendAnswer(answer.statuscode, answer.statusstr)
    if answer.statuscode > 0:
        raise AnswerFormatError(f"statuscode {answer.statuscode} is not in table 1")
    msgid = _digits(answer.get("msgid"), "msgid")
    if not (msgid.isdigit() and msgid.isascii()):
        raise AnswerFormatError("a successful send answer has no numeric msgid")
    point = answer.get("point")
    points = _int(point, "point") if point else None
    return SendAnswer(0, answer.statusstr or "OK", msgid, points)


@dataclass(frozen=True)
class StatusRow:
    """One row of a query answer; ``msgid`` is empty when the row does not say."""

    statuscode: int
    statusstr: str
    phone: str
    msgid: str
    raw: Record


def parse_statuses(body: bytes) -> list[StatusRow]:
    """The rows of a ``query.asp``/``queryBulk.asp`` answer, in the order given."""
    rows = []
    for record in read_records(body):
        answer = _status(record)
        rows.append(
            StatusRow(
                statuscode=answer.statuscode,
                statusstr=answer.statusstr,
                phone=_digits(answer.get("phone"), "phone"),
                msgid=_digits(answer.get("msgid"), "msgid"),
                raw=record,
            )
        )
    return rows


def parse_balance(body: bytes) -> tuple[StatusAnswer, int | None]:
    """A ``query_point.asp`` answer and the points it states (``None`` on an error)."""
    answer = _first_with_status(body)
    if answer.statuscode < 0:
        return answer, None
    point = answer.get("point")
    if not point:
        raise AnswerFormatError("the balance answer has no point")
    return answer, _int(point, "point")


def parse_cancel(body: bytes) -> StatusAnswer:
    """A ``sendsms_cancel.asp`` answer: statuscode 0 cancelled, negative refused."""
    return _first_with_status(body)

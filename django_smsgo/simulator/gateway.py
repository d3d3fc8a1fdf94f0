"""The five gateway endpoints: parameters in, a result to render out.

Each function checks the request in the order a careful gateway would
(credentials, then the receivers, then the text and options, then the balance)
and changes nothing unless the whole request is accepted. Every input gets an
answer with a table-1 code; nothing raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import rules
from .records import Message, Receiver
from .state import SimulatorState

Params = dict[str, str]


@dataclass(frozen=True)
class SendResult:
    code: int
    statusstr: str
    msgid: int | None = None
    points: int = 0
    reason: str = ""


@dataclass(frozen=True)
class QueryRow:
    code: int
    statusstr: str
    phone: str
    msgid: str
    reason: str = ""


@dataclass(frozen=True)
class QueryResult:
    rows: list[QueryRow] = field(default_factory=list)


@dataclass(frozen=True)
class BalanceResult:
    code: int
    statusstr: str
    points: int = 0
    reason: str = ""


@dataclass(frozen=True)
class CancelResult:
    code: int
    statusstr: str
    msgid: str
    reason: str = ""


Result = SendResult | QueryResult | BalanceResult | CancelResult


def send(state: SimulatorState, params: Params, remote_addr: str) -> SendResult:
    """``sendsms.aspx``: accept one SMS for up to 50 numbers under one msgid, or refuse it."""
    try:
        with state.lock:
            account = state.authenticate(
                params.get("username"), params.get("password"), remote_addr
            )
            message = _build_message(state, params, account.username)
            if message.points > account.points:
                raise rules.RuleError(
                    -8, f"needs {message.points} points, the account has {account.points}"
                )
            state.store(message, account)
    except rules.RuleError as error:
        return SendResult(error.code, error.text, None, 0, error.reason)
    return SendResult(0, "OK", message.msgid, message.points)


def _build_message(state: SimulatorState, params: Params, username: str) -> Message:
    encoding = rules.normalise_encoding(params.get("encoding"))
    numbers = rules.split_numbers(params.get("dstaddr"))
    smbody = params.get("smbody") or params.get("smbdy") or ""
    if not smbody:
        raise rules.RuleError(-1, "the text (smbody) is empty")
    plain = encoding in rules.PLAIN_ENCODINGS
    if not plain and any(rules.is_international(n) for n in numbers):
        raise rules.RuleError(
            -7, f"international numbers only with BIG5/ASCII/UCS2, not {encoding}"
        )
    replyurl = params.get("replyurl", "")
    replydays_text = params.get("replydays", "")
    if (replyurl or replydays_text) and not plain:
        raise rules.RuleError(-7, f"replyurl/replydays only with BIG5/ASCII/UCS2, not {encoding}")
    if len(replyurl) > rules.REPLYURL_MAX_LENGTH:
        raise rules.RuleError(-1, f"replyurl has {len(replyurl)} characters, at most 300")
    if replyurl and not replyurl.startswith(("http://", "https://")):
        raise rules.RuleError(-1, "replyurl is not an http(s) URL")
    replydays = _replydays(replydays_text) if replyurl or replydays_text else None
    wapurl = params.get("wapurl", "")
    if encoding == rules.PUSH and not wapurl:
        raise rules.RuleError(-1, "PUSH needs a wapurl")
    if wapurl and encoding != rules.PUSH:
        raise rules.RuleError(-1, f"wapurl only with PUSH, not {encoding}")
    now = state.now()
    dlvtime = params.get("dlvtime") or None
    due_at = max(now, rules.parse_dlvtime(dlvtime)) if dlvtime else now
    cost = rules.charge(encoding, smbody, wapurl, len(numbers), with_reply=bool(replyurl))
    return Message(
        msgid=state.next_msgid(),
        username=username,
        encoding=encoding,
        smbody=smbody,
        body=cost.body,
        segments=cost.segments,
        points=cost.points,
        accepted_at=now,
        due_at=due_at,
        receivers={n: Receiver(n, state.outcome_for(n)) for n in numbers},
        truncated=cost.truncated,
        pushed_to_long=cost.pushed_to_long,
        wapurl=wapurl,
        dlvtime=dlvtime,
        response=params.get("response", ""),
        replyurl=replyurl,
        replydays=replydays,
    )


def _replydays(text: str) -> int:
    if not text:
        return 3
    # ASCII digits only: "３" and "²" pass str.isdigit(), and int("３") is 3. Four digits at
    # most, so that no length of digits costs a big-number conversion.
    digits = rules.is_ascii_digits(text) and len(text) <= 4
    if not digits or not 1 <= int(text) <= rules.REPLYDAYS_MAX:
        raise rules.RuleError(-1, f"replydays {text[:40]!r} is not a whole number from 1 to 30")
    return int(text)


def query(state: SimulatorState, params: Params, remote_addr: str) -> QueryResult:
    """``query.asp``: the status of one (msgid, number) pair, or of every receiver of msgid.

    Without ``dstaddr`` (the document's own JSON example) the answer has one
    row per receiver of the msgid, in the order they were sent to.
    """
    phone = params.get("dstaddr", "")
    msgid = params.get("msgid", "")
    try:
        with state.lock:
            account = state.authenticate(
                params.get("username"), params.get("password"), remote_addr
            )
            if not phone and rules.parse_msgid(msgid) is not None:
                return QueryResult(_every_receiver(state, account.username, msgid))
            return QueryResult([_status_row(state, account.username, msgid, phone)])
    except rules.RuleError as error:
        return QueryResult([QueryRow(error.code, error.text, phone, msgid, error.reason)])


def query_bulk(state: SimulatorState, params: Params, remote_addr: str) -> QueryResult:
    """``queryBulk.asp``: statuses of msgid/number pairs, paired by position.

    One msgid with several numbers (or the reverse) pairs the single value with
    each. An empty element, or lists that cannot be paired, refuse the whole
    request; a malformed msgid, a malformed number or an unknown pair is that
    pair's row.
    """
    msgids = [m.strip() for m in params.get("msgid", "").split(",")]
    phones = [p.strip() for p in params.get("dstaddr", "").split(",")]
    try:
        with state.lock:
            account = state.authenticate(
                params.get("username"), params.get("password"), remote_addr
            )
            if len(msgids) == 1:
                msgids = msgids * len(phones)
            elif len(phones) == 1:
                phones = phones * len(msgids)
            if len(msgids) != len(phones):
                raise rules.RuleError(
                    -1, f"{len(msgids)} msgids and {len(phones)} numbers cannot be paired"
                )
            if "" in msgids or "" in phones:
                raise rules.RuleError(-1, "an msgid or a number of the lists is empty")
            pairs = zip(msgids, phones, strict=True)
            return QueryResult([_status_row(state, account.username, m, p) for m, p in pairs])
    except rules.RuleError as error:
        return QueryResult(
            [
                QueryRow(
                    error.code,
                    error.text,
                    params.get("dstaddr", ""),
                    params.get("msgid", ""),
                    error.reason,
                )
            ]
        )


def _own_message(state: SimulatorState, username: str, msgid: str) -> Message | None:
    number = rules.parse_msgid(msgid)
    message = state.messages.get(number) if number is not None else None
    return message if message is not None and message.username == username else None


def _every_receiver(state: SimulatorState, username: str, msgid: str) -> list[QueryRow]:
    message = _own_message(state, username, msgid)
    if message is None:
        error = rules.RuleError(-1, f"msgid {msgid} is unknown", unknown=True)
        return [QueryRow(error.code, error.text, "", msgid, error.reason)]
    return [QueryRow(0, state.status_of(message, n), n, msgid) for n in message.receivers]


def _status_row(state: SimulatorState, username: str, msgid: str, phone: str) -> QueryRow:
    """One pair's row; a malformed msgid or number, or an unknown pair, is a negative row."""
    if not msgid or not phone:
        raise rules.RuleError(-1, "msgid and dstaddr are both needed")
    try:
        if rules.parse_msgid(msgid) is None:
            raise rules.RuleError(-1, f"msgid {msgid[:40]!r} is not 1 to 20 ASCII digits")
        rules.check_number(phone)
        message = _own_message(state, username, msgid)
        if message is None or phone not in message.receivers:
            raise rules.RuleError(
                -1, f"{phone} is not a receiver of msgid {msgid} of this account", unknown=True
            )
    except rules.RuleError as error:
        return QueryRow(error.code, error.text, phone, msgid, error.reason)
    return QueryRow(0, state.status_of(message, phone), phone, msgid)


def balance(state: SimulatorState, params: Params, remote_addr: str) -> BalanceResult:
    """``query_point.asp``: the account's points."""
    try:
        with state.lock:
            account = state.authenticate(
                params.get("username"), params.get("password"), remote_addr
            )
            return BalanceResult(0, "OK", account.points)
    except rules.RuleError as error:
        return BalanceResult(error.code, error.text, 0, error.reason)


def cancel(state: SimulatorState, params: Params, remote_addr: str) -> CancelResult:
    """``sendsms_cancel.asp``: cancel a message that is not due yet and refund its points.

    Refusals are -1: a malformed msgid in FAQ 7's words, an unknown msgid, one
    already due or already cancelled in table 1's (the reason is in the audit).
    """
    msgid = params.get("msgid", "")
    try:
        with state.lock:
            account = state.authenticate(
                params.get("username"), params.get("password"), remote_addr
            )
            if rules.parse_msgid(msgid) is None:
                raise rules.RuleError(-1, f"msgid {msgid[:40]!r} is not 1 to 20 ASCII digits")
            message = _own_message(state, account.username, msgid)
            if message is None:
                raise rules.RuleError(-1, f"msgid {msgid} is unknown", unknown=True)
            if message.cancelled:
                raise rules.RuleError(-1, f"msgid {msgid} is already cancelled", unknown=True)
            if message.due_at <= state.now():
                raise rules.RuleError(
                    -1,
                    f"msgid {msgid} was already due at {rules.format_taipei(message.due_at)}",
                    unknown=True,
                )
            state.cancel(message, account)
            return CancelResult(0, "OK", msgid)
    except rules.RuleError as error:
        return CancelResult(error.code, error.text, msgid, error.reason)

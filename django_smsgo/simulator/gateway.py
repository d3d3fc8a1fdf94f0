"""The five gateway endpoints: parameters in, a result to render out.

Each function checks the request in the order a careful gateway would
(credentials, then the receivers, then the text and options, then the balance)
and changes nothing unless the whole request is accepted.
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


@dataclass(frozen=True)
class QueryResult:
    rows: list[QueryRow] = field(default_factory=list)


@dataclass(frozen=True)
class BalanceResult:
    code: int
    statusstr: str
    points: int = 0


@dataclass(frozen=True)
class CancelResult:
    code: int
    statusstr: str
    msgid: str


Result = SendResult | QueryResult | BalanceResult | CancelResult

NOT_FOUND = "Not found"


def _error_text(error: rules.RuleError) -> str:
    return rules.STATUS_TEXT[error.code]


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
        return SendResult(error.code, _error_text(error), None, 0, error.reason)
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
    if not text.isdigit() or not 1 <= int(text) <= rules.REPLYDAYS_MAX:
        raise rules.RuleError(-1, f"replydays {text!r} is not a whole number from 1 to 30")
    return int(text)


def query(state: SimulatorState, params: Params, remote_addr: str) -> QueryResult:
    """``query.asp``: the status of one (msgid, number) pair."""
    phone = params.get("dstaddr", "")
    msgid = params.get("msgid", "")
    try:
        with state.lock:
            account = state.authenticate(
                params.get("username"), params.get("password"), remote_addr
            )
            return QueryResult([_status_row(state, account.username, msgid, phone)])
    except rules.RuleError as error:
        return QueryResult([QueryRow(error.code, _error_text(error), phone, msgid)])


def query_bulk(state: SimulatorState, params: Params, remote_addr: str) -> QueryResult:
    """``queryBulk.asp``: statuses of msgid/number pairs, paired by position.

    One msgid with several numbers (or the reverse) pairs the single value with each.
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
            pairs = zip(msgids, phones, strict=True)
            return QueryResult([_status_row(state, account.username, m, p) for m, p in pairs])
    except rules.RuleError as error:
        return QueryResult(
            [
                QueryRow(
                    error.code,
                    _error_text(error),
                    params.get("dstaddr", ""),
                    params.get("msgid", ""),
                )
            ]
        )


def _status_row(state: SimulatorState, username: str, msgid: str, phone: str) -> QueryRow:
    if not msgid or not phone:
        raise rules.RuleError(-1, "msgid and dstaddr are both needed")
    message = state.messages.get(int(msgid)) if msgid.isdigit() else None
    if message is None or message.username != username or phone not in message.receivers:
        return QueryRow(-1, NOT_FOUND, phone, msgid)
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
        return BalanceResult(error.code, _error_text(error), 0)


def cancel(state: SimulatorState, params: Params, remote_addr: str) -> CancelResult:
    """``sendsms_cancel.asp``: cancel a message that is not due yet and refund its points.

    Refusals are -1 with a text that says why: unknown msgid, already sent,
    already cancelled.
    """
    msgid = params.get("msgid", "")
    try:
        with state.lock:
            account = state.authenticate(
                params.get("username"), params.get("password"), remote_addr
            )
            message = state.messages.get(int(msgid)) if msgid.isdigit() else None
            if message is None or message.username != account.username:
                return CancelResult(-1, NOT_FOUND, msgid)
            if message.cancelled:
                return CancelResult(-1, "Already cancelled", msgid)
            if message.due_at <= state.now():
                return CancelResult(-1, "Already sent", msgid)
            state.cancel(message, account)
            return CancelResult(0, "OK", msgid)
    except rules.RuleError as error:
        return CancelResult(error.code, _error_text(error), msgid)

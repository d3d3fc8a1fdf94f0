"""What one attempt on one host gave, and the readers that turn query rows into results.

An :class:`Outcome` holds a value or the error to raise, and whether the
error allows the backup host to be tried. Errors are raised by the caller
outside any ``except`` block, so no library exception is ever chained.
"""

from __future__ import annotations

from django_smsgo.client.answers import AnswerFormatError, StatusRow
from django_smsgo.client.results import DeliveryStatus
from django_smsgo.client.statuses import is_final
from django_smsgo.exceptions import GatewayError, SendFailedError, SmsgoError


class Outcome:
    """A value, or an error to raise; ``failover`` when the request surely was not carried out."""

    __slots__ = ("error", "failover", "value")

    def __init__(
        self, value: object = None, error: SmsgoError | None = None, failover: bool = False
    ) -> None:
        self.value = value
        self.error = error
        self.failover = failover

    def __repr__(self) -> str:
        shown = type(self.error).__name__ if self.error else type(self.value).__name__
        return f"<Outcome {shown} failover={self.failover}>"


def gateway_refusal(code: int, text: str, api_url: str) -> Outcome:
    """The error of a negative statuscode; -10 "send fail" allows the backup host."""
    error = GatewayError.from_code(code, text, api_url=api_url)
    # -10 "send fail" is the gateway's own word that nothing was sent.
    return Outcome(error=error, failover=isinstance(error, SendFailedError))


#: Codes that refuse the account, not one receiver: a query answering one refused them all.
ACCOUNT_CODES = frozenset({-2, -3, -6, -10})


def request_refusal(rows: list[StatusRow], api_url: str) -> Outcome | None:
    """A refusal of the whole query.

    One negative row that names no receiver, or any row with an account-level
    code (a wrong password refuses every pair of the query, even when the
    gateway repeats the number in the row).
    """
    for row in rows:
        if row.statuscode in ACCOUNT_CODES or (
            len(rows) == 1 and row.statuscode < 0 and not row.phone
        ):
            return gateway_refusal(row.statuscode, row.statusstr, api_url)
    return None


def status_of(row: StatusRow, msgid: str, number: str) -> DeliveryStatus:
    """The :class:`DeliveryStatus` of one query row (``msgid``/``number`` when it names none)."""
    return DeliveryStatus(
        msgid=row.msgid or msgid,
        number=row.phone or number,
        statuscode=row.statuscode,
        statusstr=row.statusstr,
        is_final=is_final(row.statusstr) and row.statuscode >= 0,
        raw=dict(row.raw),
    )


def match_rows(rows: list[StatusRow], batch: list[tuple[str, str]]) -> list[DeliveryStatus]:
    """Each row with its (msgid, number) pair: by its own msgid, else by position or number."""
    if all(row.msgid for row in rows):
        return [status_of(row, row.msgid, row.phone) for row in rows]
    if len(rows) == len(batch):
        return [
            status_of(row, msgid, number) for row, (msgid, number) in zip(rows, batch, strict=True)
        ]
    matched = []
    for row in rows:
        candidates = [pair for pair in batch if pair[1] == row.phone]
        if len(candidates) != 1:
            raise AnswerFormatError("a status row names no msgid and cannot be matched")
        matched.append(status_of(row, *candidates[0]))
    return matched

"""A delivery report on PostgreSQL in one statement: lock, decide, change, log.

The common report (its batch id known from the callback URL, the batch sent
and its msgid stored, one recipient matching) is recorded by one
data-modifying statement that, in a single round trip:

1. locks the matching recipient (``FOR NO KEY UPDATE``: the newest version of
   the row, waiting for a concurrent report on it to commit first),
2. decides the outcome from that newest version, with a ``CASE`` generated
   from :data:`~django_smsgo.services.states.recipient.REPORT_RULES` (the table
   the general path reads, so the two cannot say different things),
3. changes the recipient only when the outcome is ``applied``,
4. inserts the ``DeliveryReport`` row with its outcome, and
5. for a final state, looks for another recipient of the message that is
   still open and that no concurrent report holds (``FOR SHARE SKIP
   LOCKED``; only the message's own open recipients are read, the next one
   after this recipient first); finding one proves this report did not
   finish the message.

Run in autocommit, the statement is its own transaction: when it returns, the
report is committed. Anything else (a batch still being sent, a msgid to
adopt or that contradicts the batch, an ``uncertain`` recipient, no single
matching recipient, a stored state whose spelling SQL might compare
differently from Python) makes the statement write nothing and return no row;
the caller then takes the general path.

Why step 5 is enough to settle every message: a report that found such a
recipient holds a share lock on it until it commits, so that recipient was
still open when the report committed and the report was not the last one. The
report that does finish a message therefore found none, and checks again after
its commit; a report on another recipient that was running at the same time
either committed before that check (and is seen) or was itself waiting for a
lock held by this report, and then sees this report's change when it checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from django_smsgo.client.statuses import FINAL_STATES
from django_smsgo.models import Batch, DeliveryReport, Recipient
from django_smsgo.services.states import prepared
from django_smsgo.services.states.prepared import literal
from django_smsgo.services.states.recipient import (
    OPEN,
    REPORT_RULES,
    ReportRule,
    final_reason,
    normalise_state,
    status_after,
)

Outcome = DeliveryReport.Outcome
R = Recipient.Status


@dataclass(frozen=True)
class Recorded:
    """What the statement did: the stored report and the recipient's newest state."""

    report: DeliveryReport
    recipient: Recipient
    #: The recipient's gateway status before this report (for the conflict log line).
    previous_gateway_status: str
    #: A final state was applied and no other open recipient was found free:
    #: the message may be finished, check it after commit.
    may_finish_message: bool


def supports(alias: str) -> bool:
    """Tell whether the database ``alias`` can take the one-statement path."""
    return connections[alias].vendor == "postgresql"


def record(
    *,
    alias: str,
    batch_id: int,
    msgid: str,
    phones: list[str] | None,
    phone: str,
    statuscode: int | None,
    statusstr: str,
    source: str,
    raw: Mapping[str, Any],
    now: datetime,
) -> Recorded | None:
    """Record one report of batch ``batch_id`` in one statement, or return None.

    ``phones``: every spelling of the reported number, or None when the report
    named none. ``statusstr`` is the text as stored. None means the statement
    wrote nothing: the report needs the general path.
    """
    connection = connections[alias]
    state = normalise_state(statusstr)
    final = state in FINAL_STATES
    reason_code, reason_params = final_reason(state)
    raw_dict = dict(raw)
    raw_value = DeliveryReport._meta.get_field("raw").get_db_prep_save(raw_dict, connection)
    params: dict[str, Any] = {
        "batch_id": batch_id,
        "msgid": msgid,
        "phones": phones,
        "phone": phone,
        "statuscode": statuscode,
        "statusstr": statusstr,
        "state": state,
        "new_status": status_after(applied_rule(final=final), state),
        "reason_code": reason_code,
        "reason_params": Recipient._meta.get_field("reason_params").get_db_prep_save(
            dict(reason_params), connection
        ),
        "source": source,
        "raw": raw_value,
        "now": now,
    }
    statement = _statement(final=final, by_phone=phones is not None)
    row = prepared.run(connection, statement, params, fetch="one")
    if row is None:
        return None
    return _recorded(connection, row, params, raw_dict)


_RECIPIENT_FIELDS = list(Recipient._meta.concrete_fields)


def _recorded(
    connection: BaseDatabaseWrapper,
    row: tuple[Any, ...],
    params: dict[str, Any],
    raw: dict[str, Any],
) -> Recorded:
    outcome, report_id, received_at, may_finish, previous_gateway_status = row[:5]
    recipient = _recipient_from_row(connection, row[5:])
    report = DeliveryReport(
        pk=report_id,
        recipient=recipient,
        batch_id=params["batch_id"],
        msgid=params["msgid"],
        phone=params["phone"],
        statuscode=params["statuscode"],
        statusstr=params["statusstr"],
        source=params["source"],
        outcome=outcome,
        raw=raw,
        received_at=received_at,
    )
    report._state.adding = False
    report._state.db = connection.alias
    return Recorded(
        report=report,
        recipient=recipient,
        previous_gateway_status=previous_gateway_status,
        may_finish_message=bool(may_finish),
    )


def _recipient_from_row(connection: BaseDatabaseWrapper, values: tuple[Any, ...]) -> Recipient:
    converted = []
    for field, value in zip(_RECIPIENT_FIELDS, values, strict=True):
        if hasattr(field, "from_db_value"):
            value = field.from_db_value(value, None, connection)
        converted.append(value)
    return Recipient.from_db(
        connection.alias, [field.attname for field in _RECIPIENT_FIELDS], converted
    )


def applied_rule(*, final: bool) -> ReportRule:
    """The rule that applies a report (final or not) to an open recipient."""
    return next(
        rule
        for rule in REPORT_RULES
        if rule.final == final and rule.outcome == Outcome.APPLIED and rule.same is None
    )


def stored_state(column: str) -> tuple[str, str]:
    """SQL for the stored state in ``column``: whether it compares as in Python, and how.

    Python's ``strip().upper()`` and SQL's ``upper()`` agree on printable ASCII
    without surrounding spaces; a row whose stored state is anything else
    takes the general path.
    """
    comparable = f"{column} COLLATE \"C\" ~ '^([!-~]([ -~]*[!-~])?)?$'"
    return comparable, f'upper({column} COLLATE "C")'


def outcome_case(*, final: bool, status: str, known: str, state: str = "%(state)s") -> str:
    """A SQL ``CASE`` giving a report's outcome by :data:`REPORT_RULES`, in the rules' order.

    ``status`` and ``known`` are the SQL of the recipient's status and of its
    known state in comparable form; ``state`` that of the report's state. The
    rules' first match wins, as in :func:`~.recipient.decide`. No rule left
    matching gives NULL, which the statement treats as "take the general path".
    """
    whens = []
    for rule in REPORT_RULES:
        if rule.final != final:
            continue
        statuses = ", ".join(literal(s) for s in sorted(rule.statuses))
        condition = f"{status} IN ({statuses})"
        if rule.same is True:
            condition += f" AND {known} = {state}"
        elif rule.same is False:
            condition += f" AND {known} <> {state}"
        whens.append(f"WHEN {condition} THEN {literal(rule.outcome)}")
    return "CASE " + " ".join(whens) + " END"


@cache
def _statement(*, final: bool, by_phone: bool) -> prepared.Statement:
    """The statement for a final or non-final state, with or without a number."""
    label = ("final" if final else "progress") + ("_by_phone" if by_phone else "")
    return prepared.Statement.of(_statement_sql(final=final, by_phone=by_phone), label)


def _statement_sql(*, final: bool, by_phone: bool) -> str:
    from django.db import connection as default_connection

    quote = default_connection.ops.quote_name
    recipients = quote(Recipient._meta.db_table)
    batches = quote(Batch._meta.db_table)
    reports = quote(DeliveryReport._meta.db_table)

    def col(model: Any, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    def column(field: Any) -> str:
        return quote(field.column)

    r_id, r_batch, r_phone = col(Recipient, "id"), col(Recipient, "batch"), col(Recipient, "phone")
    r_status, r_gw = col(Recipient, "status"), col(Recipient, "gateway_status")
    r_message = col(Recipient, "message")
    all_columns = [column(field) for field in _RECIPIENT_FIELDS]
    open_statuses = ", ".join(literal(s) for s in sorted(OPEN))
    applied = literal(Outcome.APPLIED)
    comparable, known = stored_state(f"t.{r_gw}")
    outcome = outcome_case(final=final, status=f"t.{r_status}", known=known)
    if final:
        sets = f"""{r_status} = %(new_status)s,
            {col(Recipient, "final_at")} = %(now)s,
            {col(Recipient, "reason_code")} = %(reason_code)s,
            {col(Recipient, "reason_params")} = %(reason_params)s,"""
        # The next open recipient after this one, else the last before it,
        # through smsgo_rcpt_open: never the message's settled recipients
        # (reports come mostly in sending order, so a look from the message's
        # start would step over more of them with every report), and
        # concurrent reports lock different rows instead of all sharing a
        # lock of one. The scan starts at the changed row's (message, id), a
        # row comparison, and ends with its message: every plan, generic ones
        # too, starts the index scan there and keeps to the message (bounded
        # by id alone, a generic plan walked the primary key over other
        # messages' rows; bounded by "message =" too, the scan started at the
        # message's first entry). Queued recipients count: smsgo_rcpt_to_poll,
        # which holds none, can then never serve this look.
        other = "".join(
            f""",
        other_{side} AS (
            SELECT o.{r_id} FROM {recipients} o
            WHERE (o.{r_message}, o.{r_id}) {op} (SELECT {r_message}, {r_id} FROM upd)
              AND o.{r_message} {end} (SELECT {r_message} FROM upd)
              AND o.{r_status} IN ({open_statuses})
            ORDER BY o.{r_message} {direction}, o.{r_id} {direction}
            LIMIT 1
            FOR SHARE OF o SKIP LOCKED
        )"""  # noqa: S608
            for side, op, end, direction in (
                ("after", ">", "<=", "ASC"),
                ("before", "<", ">=", "DESC"),
            )
        )
        # AND stops at the first recipient found: the second look runs
        # only when the first found none.
        may_finish = (
            f"(d.outcome = {applied} AND NOT EXISTS (SELECT 1 FROM other_after)"  # noqa: S608
            " AND NOT EXISTS (SELECT 1 FROM other_before))"
        )
    else:
        sets = f"{r_status} = %(new_status)s,"
        other = ""
        may_finish = "false"
    phone_filter = f"AND r.{r_phone} = ANY(%(phones)s)" if by_phone else ""
    report_columns = ", ".join(
        col(DeliveryReport, name)
        for name in (
            "recipient",
            "batch",
            "msgid",
            "phone",
            "statuscode",
            "statusstr",
            "source",
            "outcome",
            "raw",
            "received_at",
        )
    )
    target_columns = ", ".join("r." + c for c in all_columns)

    def newest(name: str) -> str:
        # The changed row when there is one, else the locked one (the newest too).
        return f"CASE WHEN u.{r_id} IS NULL THEN t.{name} ELSE u.{name} END"

    # Every name and literal below comes from the models; values are parameters.
    return f"""
        WITH target AS (
            SELECT {target_columns}, b.{col(Batch, "msgid")} AS batch_msgid
            FROM {recipients} r JOIN {batches} b ON b.{col(Batch, "id")} = r.{r_batch}
            WHERE r.{r_batch} = %(batch_id)s {phone_filter}
              AND b.{col(Batch, "state")} <> {literal(Batch.State.CLAIMED)}
            LIMIT 2
            FOR NO KEY UPDATE OF r
        ),
        decision AS (
            SELECT t.{r_id}, {outcome} AS outcome
            FROM target t
            WHERE (SELECT count(*) FROM target) = 1
              AND t.batch_msgid = %(msgid)s
              AND t.{r_status} <> {literal(R.UNCERTAIN)}
              AND {comparable}
        ),
        upd AS (
            UPDATE {recipients} SET
                {sets}
                {col(Recipient, "submitted_at")} =
                    COALESCE({recipients}.{col(Recipient, "submitted_at")}, %(now)s),
                {r_gw} = %(statusstr)s,
                {col(Recipient, "gateway_statuscode")} = %(statuscode)s,
                {col(Recipient, "updated_at")} = %(now)s
            FROM decision d
            WHERE {recipients}.{r_id} = d.{r_id} AND d.outcome = {applied}
            RETURNING {", ".join(f"{recipients}.{c}" for c in all_columns)}
        ){other},
        ins AS (
            INSERT INTO {reports} ({report_columns})
            SELECT d.{r_id}, %(batch_id)s, %(msgid)s, %(phone)s, %(statuscode)s,
                   %(statusstr)s, %(source)s, d.outcome, %(raw)s, %(now)s
            FROM decision d
            RETURNING {col(DeliveryReport, "id")}, {col(DeliveryReport, "received_at")}
        )
        SELECT d.outcome, ins.{col(DeliveryReport, "id")}, ins.{col(DeliveryReport, "received_at")},
               {may_finish}, t.{r_gw},
               {", ".join(newest(c) for c in all_columns)}
        FROM decision d
        JOIN target t ON t.{r_id} = d.{r_id}
        CROSS JOIN ins
        LEFT JOIN upd u ON u.{r_id} = d.{r_id}
    """  # noqa: S608

"""Status query answers on PostgreSQL in one statement: lock, decide, change, log.

Polling writes the observations of several answers together (up to 500).
:func:`~django_smsgo.services.states.recipient.apply_observations` does it
in Python, a row at a time; on PostgreSQL one data-modifying statement does
the same for all of them, in a single round trip:

1. locks the observed recipients in id order (``FOR NO KEY UPDATE``: the
   newest version of each row, after a concurrent report on it commits),
2. decides each outcome from that version with the ``CASE`` generated from
   :data:`~django_smsgo.services.states.recipient.REPORT_RULES` (the table the
   general path and the callbacks' statement read too),
3. changes the recipients whose outcome is ``applied``, and
4. inserts one ``DeliveryReport`` row per decided observation.

The observations travel as one JSON document read by ``json_to_recordset``:
one parameter for the driver to adapt, where arrays would cost it a
conversion per value. What a state does to an applied recipient (its new
status, its reason) is worked out in Python, by the general path's own
functions, once per state: a second, small document, joined by state.

A recipient whose stored state SQL might compare differently from Python is
left alone (no change, no report) and handed back: the caller gives it to the
general path. Run in autocommit, the statement is its own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connections

from django_smsgo.client.statuses import FINAL_STATES
from django_smsgo.models import DeliveryReport, Recipient
from django_smsgo.services.states import prepared
from django_smsgo.services.states.prepared import column, literal, quoted
from django_smsgo.services.states.recipient import (
    Observation,
    final_reason,
    normalise_state,
    status_after,
)
from django_smsgo.services.states.report_statement import (
    applied_rule,
    outcome_case,
    stored_state,
)

# The one-statement path runs on the same databases as the report statement's.
from django_smsgo.services.states.report_statement import supports as supports

Outcome = DeliveryReport.Outcome


@dataclass(frozen=True)
class Logged:
    """One observation as the statement stored it."""

    observation: Observation
    #: The stored report's outcome, by :data:`~.recipient.REPORT_RULES`.
    outcome: str
    #: The recipient's message (to settle it once the run is written).
    message_id: int
    report_id: int


def record(
    observations: Sequence[Observation], *, alias: str, source: str, now: datetime
) -> tuple[list[Logged], list[Observation]]:
    """Store ``observations`` in one statement, as the general path would.

    Returns what was stored, in the observations' order, and the observations
    left for the general path (their recipient's stored state needs Python's
    comparison; all of them when a recipient is observed twice). An
    observation whose recipient no longer exists is stored nowhere, as on the
    general path.
    """
    if not observations:
        return [], []
    if len({o.recipient_id for o in observations}) != len(observations):
        return [], list(observations)  # the statement's join needs one row per recipient
    rows, effects = _documents(observations)
    params = {
        "observations": rows,
        "effects": effects,
        "source": source,
        "now": now,
    }
    rows = prepared.run(connections[alias], _statement(), params, fetch="all")
    logged: list[Logged] = []
    left: list[Observation] = []
    for index, outcome, message_id, report_id in sorted(rows):
        if outcome is None:
            left.append(observations[index])
        else:
            logged.append(Logged(observations[index], outcome, message_id, report_id))
    return logged, left


def _documents(observations: Sequence[Observation]) -> tuple[str, str]:
    """The observations as one JSON array, and what each of their states does to a recipient."""
    effects: dict[str, dict[str, Any]] = {}
    rows = []
    for index, observation in enumerate(observations):
        state = normalise_state(observation.statusstr)
        if state not in effects:
            final = state in FINAL_STATES
            code, params = final_reason(state)
            effects[state] = {
                "state": state,
                "final": final,
                "new_status": status_after(applied_rule(final=final), state),
                "reason_code": code,
                "reason_params": dict(params),
            }
        rows.append(
            {
                "n": index,
                "recipient": observation.recipient_id,
                "batch": observation.batch_id,
                "msgid": observation.msgid,
                "phone": observation.phone,
                "statuscode": observation.statuscode,
                "statusstr": observation.statusstr,
                "raw": observation.raw,
                "state": state,
            }
        )
    return json.dumps(rows, default=dict), json.dumps(list(effects.values()), default=dict)


@cache
def _statement() -> prepared.Statement:
    recipients, reports = (
        quoted(Recipient._meta.db_table),
        quoted(DeliveryReport._meta.db_table),
    )
    r = {
        name: column(Recipient, name)
        for name in (
            "id",
            "message",
            "status",
            "gateway_status",
            "gateway_statuscode",
            "final_at",
            "reason_code",
            "reason_params",
            "submitted_at",
            "updated_at",
        )
    }
    comparable, known = stored_state(f"t.{r['gateway_status']}")
    status = f"t.{r['status']}"
    final_case = outcome_case(final=True, status=status, known=known, state="o.state")
    progress_case = outcome_case(final=False, status=status, known=known, state="o.state")
    applied = literal(Outcome.APPLIED)
    report_columns = ", ".join(
        column(DeliveryReport, name)
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
    report_id, report_recipient = (
        column(DeliveryReport, "id"),
        column(DeliveryReport, "recipient"),
    )

    def unless_final(name: str, value: str) -> str:
        # A state that is not final leaves the final time and the reason as they were.
        return f"{r[name]} = CASE WHEN d.final THEN {value} ELSE {recipients}.{r[name]} END"

    # Every name and literal below comes from the models; values are parameters.
    sql = f"""
        WITH o AS MATERIALIZED (
            SELECT o.*, e.final, e.new_status, e.reason_code, e.reason_params
            FROM json_to_recordset(%(observations)s::json) AS o(
                n integer, recipient bigint, batch bigint, msgid text, phone text,
                statuscode integer, statusstr text, raw jsonb, state text)
            JOIN json_to_recordset(%(effects)s::json) AS e(
                state text, final boolean, new_status text, reason_code text,
                reason_params jsonb) ON e.state = o.state
        ),
        target AS (
            SELECT r.{r["id"]}, r.{r["message"]}, r.{r["status"]}, r.{r["gateway_status"]}
            FROM {recipients} r
            -- An array, not a join: the primary key's index, however large the table.
            WHERE r.{r["id"]} = ANY(ARRAY(SELECT recipient FROM o))
            ORDER BY r.{r["id"]}
            FOR NO KEY UPDATE OF r
        ),
        decision AS (
            SELECT o.*, t.{r["message"]} AS message_id,
                   CASE WHEN NOT ({comparable}) THEN NULL
                        WHEN o.final THEN {final_case}
                        ELSE {progress_case} END AS outcome
            FROM o JOIN target t ON t.{r["id"]} = o.recipient
        ),
        upd AS (
            UPDATE {recipients} SET
                {r["status"]} = d.new_status,
                {unless_final("final_at", "%(now)s")},
                {unless_final("reason_code", "d.reason_code")},
                {unless_final("reason_params", "d.reason_params")},
                {r["submitted_at"]} = COALESCE({recipients}.{r["submitted_at"]}, %(now)s),
                {r["gateway_status"]} = d.statusstr,
                {r["gateway_statuscode"]} = d.statuscode,
                {r["updated_at"]} = %(now)s
            FROM decision d
            WHERE {recipients}.{r["id"]} = d.recipient AND d.outcome = {applied}
        ),
        ins AS (
            INSERT INTO {reports} ({report_columns})
            SELECT d.recipient, d.batch, d.msgid, d.phone, d.statuscode, d.statusstr,
                   %(source)s, d.outcome, d.raw, %(now)s
            FROM decision d
            WHERE d.outcome IS NOT NULL
            ORDER BY d.n
            RETURNING {report_id}, {report_recipient}
        )
        SELECT d.n, d.outcome, d.message_id, ins.{report_id}
        FROM decision d LEFT JOIN ins ON ins.{report_recipient} = d.recipient
    """  # noqa: S608
    return prepared.Statement.of(sql, "observations")

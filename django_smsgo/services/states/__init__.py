"""The only writers of ``Message.status``, ``Batch.state`` and ``Recipient.status``.

The allowed moves are the tables beside the status choices in
:mod:`django_smsgo.models`; the functions here are the only code that changes
those columns (a test walks the package and fails on any other writer):

* :mod:`.message` — a message's status, and settling it from its recipients;
* :mod:`.batch` — claiming recipients for a request and recording what became of it;
* :mod:`.recipient` — recipients' statuses, including what a delivery report does
  to one (:data:`~.recipient.REPORT_RULES`);
* :mod:`.report_statement` — the same report rules as one PostgreSQL statement,
  generated from that table.
* :mod:`.observation_statement` — the same rules for the answers of a polling
  run, many at a time, in one PostgreSQL statement.

Every write is a conditional ``UPDATE … WHERE <status> IN (allowed sources)``,
so two processes racing to move the same row cannot both win, and a late
worker cannot drag a row back out of a final state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["InvalidTransition", "check_moves", "sources_of"]


class InvalidTransition(ValueError):
    """A status change the state machine does not allow (a programming error)."""


def sources_of(table: Mapping[str, frozenset[str]], target: str) -> list[str]:
    """Every status of ``table`` from which a row may move to ``target``."""
    if target not in table:
        raise InvalidTransition(f"Unknown status {target!r}.")
    return [source for source, targets in table.items() if target in targets]


def check_moves(
    table: Mapping[str, frozenset[str]], sources: Iterable[str], target: str
) -> list[str]:
    """``sources`` as a list, after checking each may move to ``target``; raise otherwise."""
    chosen = list(sources)
    allowed = set(sources_of(table, target))
    illegal = [source for source in chosen if source not in allowed]
    if illegal:
        raise InvalidTransition(
            f"{', '.join(illegal)} cannot move to {target} "
            f"(allowed from: {', '.join(sorted(allowed)) or 'nothing'})."
        )
    return chosen

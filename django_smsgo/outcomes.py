"""The outcome rule the simulator and the test backends share: a number's last two digits.

So that a project's tests can ask for a failure, every stand-in of the
gateway (the bundled simulator, the console and locmem backends) gives a
number the final state of its last two digits: ``91`` UNDELIV, ``92`` ABSENT,
``93`` EXPIRED, ``94`` REJECTD, ``95`` DELETED, ``96`` SPAM, ``97`` BLOCK,
``98`` ACCEPTD, ``99`` never final; any other number is DELIVRD. This module
imports nothing, so the production packages need not import the simulator.
"""

from __future__ import annotations

#: What a stand-in answers before a number's final state (the document lists none).
ENROUTE = "ENROUTE"
#: What a stand-in answers for a scheduled send whose time has not come.
SCHEDULED = "SCHEDULED"

#: The outcome rule on the last two digits of a number; ``None`` never turns final.
OUTCOME_BY_LAST_TWO_DIGITS: dict[str, str | None] = {
    "91": "UNDELIV",
    "92": "ABSENT",
    "93": "EXPIRED",
    "94": "REJECTD",
    "95": "DELETED",
    "96": "SPAM",
    "97": "BLOCK",
    "98": "ACCEPTD",
    "99": None,
}


def outcome_for_number(number: str) -> str | None:
    """The final state the rule gives ``number`` (``None``: never final)."""
    return OUTCOME_BY_LAST_TWO_DIGITS.get(number[-2:], "DELIVRD")

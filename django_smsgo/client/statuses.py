"""Delivery states a query or a delivery report carries (table 2 of the vendor document)."""

from __future__ import annotations

#: Table 2: the final message states, with what each means.
FINAL_STATE_DESCRIPTIONS: dict[str, str] = {
    "DELIVRD": "delivered to the handset",
    "EXPIRED": "the validity period expired before delivery",
    "DELETED": "deleted before delivery",
    "UNDELIV": "undeliverable",
    "ABSENT": "the number does not exist",
    "SPAM": "the content was judged to be spam",
    "BLOCK": "the receiver rejects SMS",
    "ACCEPTD": "read on the receiver's behalf by customer service; never reached the handset",
    "UNKNOWN": "the message is in an invalid state",
    "REJECTD": "rejected",
    "SYNTAXE": "syntax error",
}

FINAL_STATES: frozenset[str] = frozenset(FINAL_STATE_DESCRIPTIONS)

#: The only state that means the SMS reached the handset. ACCEPTD is final but
#: not a delivery: customer service read it, the receiver never saw it.
DELIVERED = "DELIVRD"


def _state(statusstr: str) -> str:
    return statusstr.strip().upper()


def is_final(statusstr: str) -> bool:
    """True when ``statusstr`` is one of table 2's final states (spacing and case ignored).

    Anything else (the document lists no intermediate states) is not final.
    """
    return _state(statusstr) in FINAL_STATES


def is_delivered(statusstr: str) -> bool:
    """True only for ``DELIVRD``: the SMS reached the handset."""
    return _state(statusstr) == DELIVERED


def describe(statusstr: str) -> str:
    """The state in words; ``"not final yet"`` for a state outside table 2."""
    return FINAL_STATE_DESCRIPTIONS.get(_state(statusstr), "not final yet")

"""What the console and locmem backends share: fake msgids and a deterministic outcome rule.

The outcome of a number follows the bundled simulator's rule on its last two
digits, so a test can ask for a failure: ``91`` UNDELIV, ``92`` ABSENT, ``93``
EXPIRED, ``94`` REJECTD, ``95`` DELETED, ``96`` SPAM, ``97`` BLOCK, ``98``
ACCEPTD, ``99`` never final; any other number is DELIVRD.
"""

from __future__ import annotations

import itertools
import threading
import time

OUTCOMES_BY_SUFFIX = {
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

#: What a query answers before a message is final (the gateway's SMPP state).
NOT_FINAL = "ENROUTE"
SCHEDULED = "SCHEDULED"

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def fake_msgid() -> str:
    """A 15-digit msgid, unique within the process, shaped like the gateway's."""
    with _counter_lock:
        n = next(_counter)
    return f"9{int(time.time()) % 10**8:08d}{n % 10**6:06d}"


def outcome_for(number: str) -> str | None:
    """The final state the number reaches, or None when it never becomes final."""
    return OUTCOMES_BY_SUFFIX.get(number[-2:], "DELIVRD")

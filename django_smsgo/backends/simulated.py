"""What the console and locmem backends share: fake msgids and a deterministic outcome rule.

The outcome of a number is the rule of :mod:`django_smsgo.outcomes` (the
bundled simulator's too), so a test can ask for a failure: ``91`` UNDELIV,
``92`` ABSENT, ``93`` EXPIRED, ``94`` REJECTD, ``95`` DELETED, ``96`` SPAM,
``97`` BLOCK, ``98`` ACCEPTD, ``99`` never final; any other number is DELIVRD.
"""

from __future__ import annotations

import itertools
import threading
import time

from django_smsgo.client import DeliveryStatus
from django_smsgo.client.statuses import is_final

# The simulator's rule, so a project's tests and the simulator agree on every number.
from django_smsgo.outcomes import ENROUTE, SCHEDULED, outcome_for_number

__all__ = ["NOT_FINAL", "SCHEDULED", "fake_msgid", "outcome_for", "simulated_status"]

#: What a query answers before a message is final (the gateway's SMPP state).
NOT_FINAL = ENROUTE

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def fake_msgid() -> str:
    """A 15-digit msgid, unique within the process, shaped like the gateway's."""
    with _counter_lock:
        n = next(_counter)
    return f"9{int(time.time()) % 10**8:08d}{n % 10**6:06d}"


#: The final state a number reaches, or None when it never becomes final.
outcome_for = outcome_for_number


def simulated_status(msgid: str, number: str, state: str) -> DeliveryStatus:
    """The status a stand-in gateway gives for (``msgid``, ``number``) in ``state``."""
    return DeliveryStatus(
        msgid=msgid,
        number=number,
        statuscode=0,
        statusstr=state,
        is_final=is_final(state),
        raw={"msgid": msgid, "dstaddr": number, "statuscode": "0", "statusstr": state},
    )

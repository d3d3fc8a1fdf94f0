"""The locmem backend's outbox in a project's tests: deliver what became due.

:class:`~django_smsgo.backends.locmem.LocmemBackend` delivers SMS sent
without a schedule at once; a scheduled one waits until the test calls
:func:`deliver_due` after its time has come (e.g. with a frozen clock).
"""

from __future__ import annotations

from django_smsgo.backends import locmem
from django_smsgo.services.reports import record_simulated


def deliver_due() -> int:
    """Deliver the scheduled sends whose time has come and record their reports; return how many."""
    due = locmem.due_sends()
    for sent in due:
        locmem.deliver(sent)
        for status in locmem.final_statuses(sent):
            record_simulated(status, batch_id=sent.batch_id)
    return len(due)

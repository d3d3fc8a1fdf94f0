"""Accepted answers recorded on a database connection of their own while dispatch goes on.

With several requests in flight, one answer follows another every few
milliseconds, and a run that recorded each answer itself, then claimed the
next batch, would do the database work of all its batches one after the
other: that, not the gateway, would bound it. So the answers the gateway
accepted are recorded on a thread of their own (:mod:`.db_threads`), in the
order they came, while the run claims and sends the next batches on its own
connection.

Claim-before-send and record-after-answer still hold: a batch is recorded
only after its answer was read, and its claim was committed before its
request was written, so the record's connection sees it. An answer that is
not an acceptance (a refusal, an error) is recorded by the run itself: it may
end the run. A record that fails is raised in the run, as if the run had made
it; the batch keeps its claim until the sweeper calls it uncertain, as when
a worker dies between an answer and its record.

Only where :func:`.db_threads.can_hand_over` says so: outside a transaction,
whose uncommitted rows the thread could not see.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from django_smsgo.services.db_threads import DatabaseThreads

T = TypeVar("T")


class RecordBehind(Generic[T]):
    """Records made one after the other on one database thread; their results in order."""

    def __init__(self) -> None:
        self._thread = DatabaseThreads(1, name="smsgo-record")
        self._records: deque[Future[T]] = deque()

    def close(self) -> None:
        """Wait for every record handed over, then end the thread."""
        self._thread.close()

    def record(self, make: Callable[[], T]) -> None:
        """Hand over a record (``make`` writes it) to be made after those handed over before."""
        self._records.append(self._thread.submit(make))

    def done(self, *, wait: bool = False) -> list[T]:
        """The results of the records finished so far (all of them with ``wait``), in order.

        The first record that failed raises its exception here.
        """
        finished = []
        while self._records and (wait or self._records[0].done()):
            finished.append(self._records.popleft().result())
        return finished

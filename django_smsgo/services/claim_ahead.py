"""The next batch, claimed while the request before it travels.

A claim is a round trip to the database. Made between one answer and the
next request, it keeps the gateway connection idle; made while a request is on
its way, it costs nothing. So dispatch claims the next batch early, in a
transaction it leaves open until the batch's request is about to be written:

* :meth:`ClaimAhead.take` commits the claim, and the caller writes the request
  right after, as after any claim: claim-before-send holds;
* :meth:`ClaimAhead.give_back` rolls it back when the run stops before the
  batch is sent (a failure, an error): the recipients were never claimed,
  and no batch is left behind for anyone to explain.

A worker killed while the transaction is open has claimed nothing either: the
database rolls the transaction back with the session. (A claim committed
early and given back by an ``UPDATE`` would, after a SIGKILL, leave a batch
the sweeper must call uncertain although it never left.)

Only where the database locks rows and other claimers skip them
(``SELECT … FOR UPDATE SKIP LOCKED``): on SQLite an open write transaction
would hold the whole database while the request travels.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from django.db import connection, transaction

from django_smsgo.services.states.batch import Claim


def supported() -> bool:
    """Whether claims may be held in an open transaction without holding up other writers."""
    return bool(connection.features.has_select_for_update_skip_locked)


def _check_constraints_now() -> None:
    """PostgreSQL: check this transaction's foreign keys as it writes, not when it commits.

    Django's foreign keys are deferred: each claimed recipient's new batch
    would be checked by the ``COMMIT`` that :meth:`ClaimAhead.take` runs
    between an answer and the next request. Checked at once, they run while
    the request before travels; the commit only writes.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class ClaimAhead:
    """At most one claimed batch whose transaction is still open."""

    def __init__(self, *, check_at_once: bool = False) -> None:
        """``check_at_once``: check each claim's foreign keys with the claim, not at its commit.

        Worth it with one request in flight, where the commit idles the only
        connection; with several, the others keep the gateway busy and the
        statement it takes costs the loop's time (K = 4 measured slower).
        """
        self._block: transaction.Atomic | None = None
        self._claim: Claim | None = None
        self._check_at_once = check_at_once

    @property
    def waiting(self) -> bool:
        return self._claim is not None

    def claim(self, make: Callable[[], Claim | None]) -> Claim | None:
        """Run ``make`` (a claim) in a transaction left open; None (and nothing held): none left."""
        if self._block is not None:
            raise RuntimeError("A batch is claimed ahead already: take it or give it back first.")
        # The setting lasts until the transaction ends: only in a transaction of its own.
        check_now = self._check_at_once and not connection.in_atomic_block
        block = transaction.atomic()
        block.__enter__()
        try:
            if check_now:
                _check_constraints_now()
            claimed = make()
        except BaseException:
            block.__exit__(*sys.exc_info())
            raise
        if claimed is None:
            block.__exit__(None, None, None)
            return None
        self._block, self._claim = block, claimed
        return claimed

    def take(self) -> Claim | None:
        """Commit the batch claimed ahead and hand it over to be sent (None: there is none)."""
        block, claimed = self._block, self._claim
        if block is None:
            return None
        self._block = self._claim = None
        block.__exit__(None, None, None)  # commits; an error here means nothing was claimed
        return claimed

    def give_back(self) -> None:
        """Roll back the batch claimed ahead, if there is one: it will not be sent in this run."""
        block = self._block
        if block is None:
            return
        self._block = self._claim = None
        transaction.set_rollback(True)
        block.__exit__(None, None, None)

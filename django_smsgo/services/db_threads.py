"""Database work on threads of their own, each on its own database connection.

Django gives every thread its own connection, so work handed to these threads
runs on connections the caller's thread does not hold, and a statement waiting
on one of them does not hold up the others. Each thread closes its connections
when it ends: nothing is left open after the ``with`` block.

Only for autocommit work: a thread cannot see what the caller's open
transaction has not committed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections

T = TypeVar("T")

_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


def can_hand_over(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether this thread's work on ``alias`` may go to database threads now.

    Not inside a transaction: their connections would not see its uncommitted rows.
    """
    return not connections[alias].in_atomic_block


class DatabaseThreads:
    """Up to ``count`` threads taking the submitted calls in turn.

    A thread is started with each of the first ``count`` calls. Submit from
    one thread only.
    """

    def __init__(self, count: int, *, name: str) -> None:
        self._count = max(1, count)
        self._name = name
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``function(*args)`` on one of the threads; its result or exception in the future."""
        future: Future[T] = Future()
        if len(self._threads) < self._count:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads) + 1}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        self._tasks.put((future, function, args))
        return future

    def close(self) -> None:
        """Let the calls already submitted finish, then end the threads."""
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def __enter__(self) -> DatabaseThreads:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _work(self) -> None:
        try:
            while (task := self._tasks.get()) is not None:
                future, function, args = task
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(function(*args))
                    except BaseException as exc:  # handed to whoever waits on the future
                        future.set_exception(exc)
        finally:
            connections.close_all()

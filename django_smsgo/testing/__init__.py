"""For a project's own tests of code that sends SMS: factories, the outbox, the simulator.

* :mod:`django_smsgo.testing.factories`: factory-boy factories for every model,
  building consistent rows (a delivered recipient has its batch, msgid and
  delivery report). Needs ``django-smsgo[testing]`` (factory-boy).
* :mod:`django_smsgo.testing.pytest_plugin`: the fixtures ``smsgo_outbox``
  (the locmem backend, emptied for each test) and the simulator's
  ``smsgo_simulator`` fixtures. Enable with
  ``pytest_plugins = ["django_smsgo.testing.pytest_plugin"]``.
* :func:`outbox`, :func:`sent_to`: what the locmem backend received.
"""

from __future__ import annotations

from typing import Any

import django_smsgo

__all__ = ["clear_outbox", "outbox", "sent_to"]


def outbox() -> list[Any]:
    """The send requests the locmem backend received, oldest first (``OutboxMessage`` s)."""
    return django_smsgo.outbox


def clear_outbox() -> None:
    """Empty the outbox (the ``smsgo_outbox`` fixture does it before each test)."""
    django_smsgo.outbox.clear()


def sent_to(number: str) -> list[str]:
    """The texts the locmem backend sent to ``number`` (normalised form), oldest first."""
    return [sent.body for sent in django_smsgo.outbox if number in sent.numbers]

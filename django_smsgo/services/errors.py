"""Errors raised by the services when a request cannot be carried out as asked.

Each says, in words, which value broke which rule; none carries a secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from django_smsgo.exceptions import SmsgoError


class DuplicateMessageError(SmsgoError, ValueError):
    """The same text went to these numbers within ``DUPLICATE_WINDOW`` seconds."""

    def __init__(self, numbers: Sequence[str], window: int) -> None:
        self.numbers = list(numbers)
        self.window = window
        shown = ", ".join(self.numbers[:20])
        more = f" and {len(self.numbers) - 20} more" if len(self.numbers) > 20 else ""
        super().__init__(
            f"The same text was sent to {shown}{more} less than {window} seconds ago "
            "(SMSGO['DUPLICATE_WINDOW']); pass allow_duplicate=True to send it again."
        )


class InsufficientBalanceError(SmsgoError):
    """The estimated points of a send exceed the account's balance."""

    def __init__(self, needed: int, balance: int) -> None:
        self.needed = needed
        self.balance = balance
        super().__init__(
            f"This send needs about {needed} points but the balance is {balance} points; "
            "nothing was sent. Top up the account or send to fewer numbers."
        )


class CancelError(SmsgoError):
    """A message could not be cancelled."""


class MessageNotCancellable(CancelError):
    """The message's time has come (or it was never scheduled): it cannot be called back."""


class MessageNotQueueable(SmsgoError):
    """Only a draft can be queued for sending."""

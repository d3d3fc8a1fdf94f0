"""Signals the app sends, so a project can react without subclassing anything.

Each is sent after the change it announces has been committed to the database.
"""

from django.dispatch import Signal

#: A batch of a message was accepted by the gateway. Args: ``message``, ``batch``.
message_submitted = Signal()

#: A message failed for good (every recipient failed, or the gateway refused it).
#: Args: ``message``, ``reason``.
message_failed = Signal()

#: A recipient's status changed because of a delivery report (callback or poll).
#: Sent once per change, never for duplicates. Args: ``recipient``, ``report``.
delivery_report_received = Signal()

#: A receiver replied. Args: ``reply``.
reply_received = Signal()

#: The balance fell below ``LOW_BALANCE_THRESHOLD``. Args: ``points``, ``threshold``.
balance_low = Signal()

#: A send took the use of a ``POINTS_BUDGET`` cap across ``POINTS_BUDGET_WARNING``.
#: Args: ``kind``, ``period`` ("day" or "month"), ``used`` and ``cap`` (points).
points_budget_warning = Signal()

"""Signals of the code service, for monitoring SMS pumping and spend.

Both are sent after the refusal's transaction has been rolled back, so a
receiver can write to the database (an alert row, a flag) without being undone.
"""

from django.dispatch import Signal

#: ``send_otp()`` refused a send. Args: ``refusal`` (a ``CodeRefused``),
#: ``phone`` (normalised), ``key`` (the caller key given, or None), ``purpose``.
code_send_refused = Signal()

#: The points budget for codes is spent: sends are refused until it renews.
#: Args: ``period`` (``"day"`` or ``"month"``), ``budget``, ``spent``, ``first``
#: (True for the first refusal of that period only: alert on that one).
code_budget_exhausted = Signal()

"""Signals the app sends, so a project can react without subclassing anything.

Each is sent after the change it announces has been committed to the database.
"""

from django.dispatch import Signal

#: A batch of a message was accepted by the gateway. Args: ``message``, ``batch``,
#: ``metadata`` and ``tags`` (the message's). Sent once the batch is recorded; with
#: ``DISPATCH_CONNECTIONS`` above 1 on PostgreSQL, from dispatch's recording thread.
message_submitted = Signal()

#: A message failed for good (every recipient failed, or the gateway refused it).
#: Args: ``message``, ``reason``, ``metadata``, ``tags``.
message_failed = Signal()

#: A recipient's status changed because of a delivery report (callback or poll).
#: Sent once per change, never for duplicates. Args: ``recipient``, ``report``,
#: ``metadata`` and ``tags`` (the message's), ``event`` (a
#: :class:`~django_smsgo.events.SmsEvent`: ``event_type`` ``delivered``,
#: ``failed``, ``rejected``… with the raw report as ``esp_event``, named as in
#: django-anymail's tracking events) and ``esp_name`` (``"smsgo"``).
delivery_report_received = Signal()

#: A receiver replied. Args: ``reply``, ``metadata`` and ``tags`` (of the message
#: it answers; empty when it answers none).
reply_received = Signal()

#: The balance fell below ``LOW_BALANCE_THRESHOLD``. Args: ``points``, ``threshold``.
balance_low = Signal()

#: Sent by ``send_sms()`` (and every path that stores a message to send:
#: ``send_mass_sms()``, drafts, resends, the admin, the API) before the send is
#: validated and stored. Args: ``sms``, a mutable
#: :class:`~django_smsgo.events.OutgoingSms` (``numbers``, ``body``, ``options``,
#: ``metadata``, ``tags``): a receiver may change it (the changed values are
#: then validated as if the caller had passed them), or raise
#: :class:`~django_smsgo.exceptions.SmsgoCancelSend` to cancel the send.
#: Not sent through ``send_robust``: a receiver's error reaches the caller.
pre_send = Signal()

#: Sent once ``send_sms()``'s transaction committed, with the outcome. Args:
#: ``sms`` (the :class:`~django_smsgo.events.OutgoingSms` as sent), ``message``
#: (the stored ``Message``, or None when cancelled or refused), ``status``
#: (``"queued"``, ``"draft"``, ``"cancelled"`` or ``"refused"``), ``error`` (the exception
#: when refused or cancelled, else None), ``metadata``, ``tags``.
post_send = Signal()

#: A send took the use of a ``POINTS_BUDGET`` cap across ``POINTS_BUDGET_WARNING``.
#: Args: ``kind``, ``period`` ("day" or "month"), ``used`` and ``cap`` (points).
points_budget_warning = Signal()

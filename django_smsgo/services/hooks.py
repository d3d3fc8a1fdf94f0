"""The send hooks: ``pre_send`` before a send is validated, ``post_send`` with its outcome.

Every path that stores a message to send (``send_sms()``, ``send_mass_sms()``,
drafts, resends, the admin, the API) goes through :func:`before_send` and
:func:`after_send`. A ``pre_send`` receiver may change the
:class:`~django_smsgo.events.OutgoingSms` (the changed values are validated
as if the caller had given them) or raise
:class:`~django_smsgo.exceptions.SmsgoCancelSend`: then nothing is stored,
``post_send`` says ``cancelled`` and the exception reaches the caller.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from django_smsgo.events import OutgoingSms
from django_smsgo.exceptions import SmsgoCancelSend
from django_smsgo.models import Message
from django_smsgo.services import validation
from django_smsgo.signals import post_send, pre_send

QUEUED = "queued"
DRAFT = "draft"
CANCELLED = "cancelled"
REFUSED = "refused"


def before_send(to: Any, body: str, options: dict[str, Any]) -> OutgoingSms:
    """The outgoing SMS after the ``pre_send`` receivers; raises ``SmsgoCancelSend``.

    ``options`` are ``send_sms()``'s keyword arguments; ``metadata`` and
    ``tags`` are taken out of them into the SMS.
    """
    options = dict(options)
    sms = OutgoingSms(
        numbers=[to] if isinstance(to, str) else validation.as_number_list(to),
        body=body,
        options=options,
        metadata=validation.check_metadata(options.pop("metadata", None)),
        tags=validation.check_tags(options.pop("tags", None)),
    )
    if pre_send.has_listeners(Message):
        try:
            pre_send.send(sender=Message, sms=sms)
        except SmsgoCancelSend as cancel:
            after_send(sms, None, CANCELLED, cancel)
            raise
    return sms


def receivers_of(sms: OutgoingSms, to: Any) -> Any:
    """What to validate as the receivers: the caller's own value when no receiver changed it."""
    if isinstance(to, str) and sms.numbers == [to]:
        return to  # one string may hold several numbers, separated by commas
    return sms.numbers


def send_options(sms: OutgoingSms) -> dict[str, Any]:
    """The keyword arguments to plan the send with, metadata and tags included."""
    return {
        **sms.options,
        "metadata": validation.check_metadata(sms.metadata),
        "tags": validation.check_tags(sms.tags),
    }


def after_send(
    sms: OutgoingSms, message: Message | None, status: str, error: BaseException | None = None
) -> None:
    """Send ``post_send``: at once for a refusal or a cancel, after the commit for a stored send."""
    if not post_send.has_listeners(Message):
        return

    def announce() -> None:
        post_send.send(
            sender=Message,
            sms=sms,
            message=message,
            status=status,
            error=error,
            metadata=sms.metadata,
            tags=list(sms.tags),
        )

    if message is None:
        announce()
    else:
        transaction.on_commit(announce, robust=True)

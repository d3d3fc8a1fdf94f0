"""Replies: what receivers send back, forwarded by the gateway to our ``replyurl``.

Each reply is stored with its raw parameters, linked to the message and the
recipient it answers, checked against ``OPT_OUT_KEYWORDS`` (a match puts the
number on the suppression list) and ``OPT_IN_KEYWORDS`` (a match takes it off
again), and announced with ``reply_received`` once committed. Both are logged
in ``ConsentRecord`` with the reply as evidence.

The keyword rule: a reply is a keyword when, once case, full-width forms,
spaces, punctuation, symbols and emoji are set aside, nothing but the keyword
is left. ``STOP``, ``stop!``, ``ＳＴＯＰ``, ``S T O P``, ``退訂。`` and ``Stop all``
(``STOPALL``) are keywords; ``Stop. Thank you``, ``don't stop``, ``stopwatch``,
``請退訂`` and ``我不要退訂`` are conversations: stored and shown to staff, not
acted on. Reading more into a reply would suppress numbers whose owners did
not ask for it, and un-suppress them on a word said in passing.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from django_smsgo.client.validation import TAIPEI
from django_smsgo.conf import smsgo_settings
from django_smsgo.models import (
    MSGID_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    Batch,
    ConsentRecord,
    Recipient,
    Reply,
    Suppression,
)
from django_smsgo.services import locks
from django_smsgo.services.suppression import phone_variants, suppress, unsuppress
from django_smsgo.signals import reply_received

logger = logging.getLogger(__name__)


# Reply timestamps: the format is undocumented; the simulator sends the first.
_TIMESTAMP_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S")


def parse_reply_timestamp(value: str) -> datetime:
    """Turn the gateway's reply ``timestamp`` into an aware datetime.

    Accepts ``YYYY/MM/DD HH:MM:SS`` and ``YYYYMMDDHHMMSS`` (Taipei time, the
    gateway's clock) and ISO 8601 (its own offset, or Taipei when it has none).
    Raises ``ValueError`` naming the value otherwise.
    """
    text = value.strip()
    for fmt in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=TAIPEI)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"Reply timestamp {value!r} is not YYYY/MM/DD HH:MM:SS, YYYYMMDDHHMMSS or ISO 8601."
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=TAIPEI)


def keyword_form(text: str) -> str:
    """``text`` as keywords are compared: NFKC, case-folded, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if char.isalnum())


def is_keyword(body: str, keywords: Iterable[str]) -> bool:
    """True when ``body`` is one of ``keywords`` and nothing else (see the module's rule)."""
    words = keyword_form(body)
    return bool(words) and words in {keyword_form(k) for k in keywords}


def is_opt_out(body: str, keywords: Iterable[str] | None = None) -> bool:
    """Tell whether a reply asks to stop receiving marketing SMS.

    True when the reply is exactly one of ``keywords`` (default
    ``OPT_OUT_KEYWORDS``) give or take case, width, spaces, punctuation and
    emoji: ``"stop"``, ``" STOP!"``, ``"Stop all"`` and ``"退訂。"`` match;
    ``"Stop. Thank you"`` and ``"don't stop"`` do not.
    """
    return is_keyword(body, smsgo_settings.OPT_OUT_KEYWORDS if keywords is None else keywords)


def is_opt_in(body: str, keywords: Iterable[str] | None = None) -> bool:
    """Tell whether a reply asks to receive marketing SMS again (``OPT_IN_KEYWORDS``).

    The same rule as :func:`is_opt_out`: the whole reply must be the keyword.
    """
    return is_keyword(body, smsgo_settings.OPT_IN_KEYWORDS if keywords is None else keywords)


def record_reply(
    *,
    msgid: str,
    srcaddr: str,
    dstaddr: str = "",
    smbody: str = "",
    encoding: str = "",
    timestamp: datetime | str | None = None,
    raw: Mapping[str, Any],
    batch_id: int | None = None,
) -> Reply:
    """Store a receiver's reply and act on it, in one transaction.

    Links it to the message and recipient it answers (by ``batch_id`` when the
    reply URL carried it, else by ``msgid``), converts ``timestamp`` to an
    aware datetime (kept empty and logged when its format is unknown; the raw
    value stays in ``raw``), suppresses ``srcaddr`` when the text is an opt-out
    keyword and takes it off the list for an opt-in keyword (both logged in
    ``ConsentRecord``), and sends ``reply_received`` after commit. A reply arriving again
    (same msgid, number, text and timestamp) returns the stored one and changes
    nothing.
    """
    _check_length("msgid", msgid, MSGID_MAX_LENGTH, required=True)
    _check_length("srcaddr", srcaddr, PHONE_MAX_LENGTH, required=True)
    _check_length("dstaddr", dstaddr, PHONE_MAX_LENGTH)
    _check_length("encoding", encoding, Reply._meta.get_field("encoding").max_length or 8)
    sent_at: datetime | None
    if isinstance(timestamp, str) and timestamp.strip():
        try:
            sent_at = parse_reply_timestamp(timestamp)
        except ValueError:
            logger.warning("Reply to msgid %s has an unknown timestamp format.", msgid)
            sent_at = None
    elif isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise ValueError(f"Reply timestamp {timestamp!r} is naive; give an aware datetime.")
        sent_at = timestamp
    else:
        sent_at = None

    with locks.writing():
        if sent_at is not None:
            # The gateway may send a reply again when our answer did not
            # satisfy it; the same text from the same number at the same second
            # is that reply, not a new one.
            earlier = Reply.objects.filter(
                msgid=msgid, from_phone=srcaddr, body=smbody, sent_at=sent_at
            ).first()
            if earlier is not None:
                return earlier
        batch = _find_batch(msgid, batch_id)
        recipient = _find_recipient(batch, srcaddr)
        opt_out = is_opt_out(smbody)
        reply = Reply.objects.create(
            message_id=batch.message_id if batch is not None else None,
            recipient=recipient,
            msgid=msgid,
            from_phone=srcaddr,
            to_phone=dstaddr,
            body=smbody,
            encoding=encoding,
            sent_at=sent_at,
            is_opt_out=opt_out,
            raw=dict(raw),
        )
        if opt_out:
            suppress(
                srcaddr,
                Suppression.Reason.OPT_OUT,
                note=smbody[:200],
                reply=reply,
                source=ConsentRecord.Source.REPLY,
            )
        elif is_opt_in(smbody):
            unsuppress(srcaddr, source=ConsentRecord.Source.REPLY, reply=reply)
        transaction.on_commit(lambda: _announce(reply), robust=True)
    return reply


def _check_length(name: str, value: str, limit: int, *, required: bool = False) -> None:
    if required and not value:
        raise ValueError(f"A reply needs a {name}.")
    if len(value) > limit:
        raise ValueError(f"Reply {name} {value[:40]!r} is longer than {limit} characters.")


def _find_batch(msgid: str, batch_id: int | None) -> Batch | None:
    if batch_id is not None:
        batch = Batch.objects.filter(pk=batch_id).first()
        if batch is not None:
            return batch
    if not msgid:
        return None
    return Batch.objects.filter(msgid=msgid).order_by("-pk").first()


def _find_recipient(batch: Batch | None, phone: str) -> Recipient | None:
    if batch is None:
        return None
    # The number that answers is the one the SMS went to (``phone``, also
    # under OVERRIDE_RECIPIENTS).
    return Recipient.objects.filter(batch=batch, phone__in=phone_variants(phone)).first()


def _announce(reply: Reply) -> None:
    """``reply_received``, with the metadata and tags of the message it answers."""
    message = reply.message
    reply_received.send(
        sender=Reply,
        reply=reply,
        metadata=dict(message.metadata) if message is not None else {},
        tags=list(message.tags) if message is not None else [],
    )

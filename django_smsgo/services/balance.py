"""The account balance: ask the gateway, keep a snapshot, warn when it runs low."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from django_smsgo.backends import BaseBackend, get_backend
from django_smsgo.conf import smsgo_settings
from django_smsgo.models import BalanceSnapshot
from django_smsgo.services import locks
from django_smsgo.signals import balance_low

logger = logging.getLogger(__name__)


def latest_balance() -> BalanceSnapshot | None:
    """The most recent balance snapshot, or None when the balance was never asked."""
    return BalanceSnapshot.objects.order_by("-checked_at", "-pk").first()


def refresh_balance(*, backend: BaseBackend | None = None) -> BalanceSnapshot:
    """Ask the gateway for the balance and store it as a new snapshot.

    Sends ``balance_low`` (after commit) when the balance is below
    ``LOW_BALANCE_THRESHOLD``. Gateway and transport errors propagate: a
    balance query sends no SMS, so the caller may simply try again.
    """
    points = (backend or get_backend()).balance()
    threshold = int(smsgo_settings.LOW_BALANCE_THRESHOLD or 0)
    with locks.writing():
        snapshot = BalanceSnapshot.objects.create(points=points)
        if points < threshold:
            logger.warning("The smsgo balance is %s points, below %s.", points, threshold)

            def announce() -> None:
                balance_low.send(sender=BalanceSnapshot, points=points, threshold=threshold)

            transaction.on_commit(announce)
    return snapshot


def fresh_balance(*, max_age: float, backend: BaseBackend | None = None) -> BalanceSnapshot | None:
    """The balance at most ``max_age`` seconds old: the last snapshot, or the gateway asked now.

    When the gateway cannot be asked, the last snapshot (or None) is answered
    as it is; whoever shows it shows its ``checked_at`` too. Used after a send
    or a cancel and before a confirmation, so staff never read a stale figure
    as a current one.
    """
    from django.utils import timezone

    from django_smsgo.exceptions import SmsgoConfigurationError, SmsgoError

    last = latest_balance()
    if last is not None and (timezone.now() - last.checked_at).total_seconds() < max_age:
        return last
    try:
        return refresh_balance(backend=backend)
    except (SmsgoError, SmsgoConfigurationError) as exc:
        logger.info("The balance could not be asked afresh: %s", exc)
        return last


def charged_since(moment: datetime) -> int:
    """Points the gateway charged for messages it took after ``moment`` (refunds deducted).

    What a balance read at ``moment`` no longer counts: the console shows it
    beside an older figure, so a stale balance never passes for a current one.
    """
    from django.db.models import Sum

    from django_smsgo.models import Message

    total = Message.objects.filter(submitted_at__gt=moment).aggregate(n=Sum("points_charged"))["n"]
    return int(total or 0)

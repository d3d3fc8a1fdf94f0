"""Admin actions on messages: send, cancel, refresh statuses, resend.

Every action that spends points first answers with a confirmation page that
shows how many SMS it sends and the points it will cost; only the page's
"yes" (``post=yes``) does the work. The work itself is done by the services
(``queue_message``, ``Message.cancel``, ``poll_delivery_status``,
``resend_recipients``), so the admin never has a rule of its own about sending.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from django_smsgo.admin.stats import DeliveryCounts, last_balance, taipei_time
from django_smsgo.exceptions import SmsgoConfigurationError, SmsgoError
from django_smsgo.models import Message, Recipient
from django_smsgo.services.sending import RESENDABLE

if TYPE_CHECKING:
    from django_smsgo.admin.console import ConsoleAdmin

S = Message.Status
R = Recipient.Status

#: Messages listed on a confirmation page; the totals always cover all of them.
LISTED = 100
#: Balances older than this are asked afresh for a confirmation page (a balance query sends
#: nothing and costs nothing).
BALANCE_FRESH_SECONDS = 60
TICKET_SALT = "django_smsgo.admin.resend"


def action_name(action: Any) -> str:
    """The name Django files an action under."""
    return action if isinstance(action, str) else getattr(action, "__name__", str(action))


@dataclass
class Row:
    """One message on a confirmation page: ``recipients`` × ``segments`` = ``sms``."""

    message: Message
    recipients: int
    points: int
    note: str = ""
    refund: int = 0

    @property
    def segments(self) -> int:
        return max(int(self.message.segments or 1), 1)

    @property
    def sms(self) -> int:
        return self.recipients * self.segments

    @property
    def schedule(self) -> str:
        """The message's schedule in Taiwan time, empty when it is sent at once."""
        return taipei_time(self.message.send_at)


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("post") == "yes"


def back_to(request: HttpRequest) -> HttpResponse | None:
    """Where to go after the work: the page the action came from, when it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return None


def confirmation_page(
    modeladmin: ConsoleAdmin,
    request: HttpRequest,
    *,
    action: str,
    title: str,
    intro: str,
    rows: list[Row],
    skipped: int,
    confirm_label: str,
    spends: bool,
    warnings: Iterable[str] = (),
    ticket: str = "",
) -> TemplateResponse:
    """The page that asks "are you sure?": recipients, SMS, points, who is left out, balance.

    The balance is asked afresh when the last answer is older than a minute
    (it sends nothing); the page says how old the figure it shows is.
    """
    from django_smsgo.services.balance import fresh_balance

    opts = modeladmin.opts
    sms = sum(r.sms for r in rows)
    points = sum(r.points for r in rows)
    if spends:
        fresh_balance(max_age=BALANCE_FRESH_SECONDS)
    balance = last_balance()
    compose = getattr(request, "smsgo_compose", None) or {}
    left_out = list(compose.get("left_out", []))
    suppressed = left_out_by_opt_out([r.message.pk for r in rows]) if spends else 0
    recipients = sum(r.recipients for r in rows)
    given = compose.get("given") or (recipients + suppressed)
    segments = {r.segments for r in rows}
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": title,
        "intro": intro,
        "action": action,
        "rows": rows[:LISTED],
        "more_rows": max(len(rows) - LISTED, 0),
        "selected": [r.message.pk for r in rows],
        "skipped": skipped,
        "total_messages": len(rows),
        "total_recipients": recipients,
        "segments": segments.pop() if len(segments) == 1 else None,
        "total_sms": sms,
        "total_points": points,
        "total_refund": sum(r.refund for r in rows),
        "left_out": left_out[:LISTED],
        "left_out_count": len(left_out) + suppressed + compose.get("duplicates", 0),
        "duplicates": compose.get("duplicates", 0),
        "suppressed": suppressed,
        "given": given,
        "back_fields": compose.get("back", []),
        "spends": spends,
        "balance": balance,
        "balance_after": f"{balance.points - points:,}" if balance.points is not None else None,
        "short_of_points": balance.points is not None and points > balance.points,
        "warnings": list(warnings),
        "confirm_label": confirm_label,
        "ticket": ticket,
        "next": request.POST.get("next", "") or getattr(request, "smsgo_next", ""),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "django_smsgo/admin/confirm_action.html", context)


def left_out_by_opt_out(ids: list[int]) -> int:
    """Recipients of these messages that will not get the SMS: they are on the opt-out list."""
    from django_smsgo.reasons import Reason

    return Recipient.objects.filter(message_id__in=ids, reason_code=Reason.SUPPRESSED).count()


def queued_counts(ids: list[int]) -> dict[int, int]:
    """How many recipients of each message are waiting to be sent (one query)."""
    rows = (
        Recipient.objects.filter(message_id__in=ids, status=R.QUEUED)
        .values_list("message_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


# -- send -------------------------------------------------------------------


@admin.action(description=gettext_lazy("Send the selected drafts now"), permissions=["send"])
def send_messages(
    modeladmin: ConsoleAdmin, request: HttpRequest, queryset: QuerySet[Message]
) -> HttpResponse | None:
    """Queue the selected drafts for sending, after a confirmation page."""
    if not modeladmin.has_send_permission(request):
        raise PermissionDenied
    drafts = list(queryset.filter(status__in=(S.DRAFT, S.QUEUED)).order_by("pk"))
    skipped = queryset.exclude(status__in=(S.DRAFT, S.QUEUED)).count()
    if confirmed(request):
        return _send(modeladmin, request, drafts, skipped)
    waiting = queued_counts([m.pk for m in drafts])
    rows = [
        Row(
            m,
            waiting.get(m.pk, 0),
            m.estimated_points,
            _("already queued") if m.status == S.QUEUED else quiet_hours_note(m),
        )
        for m in drafts
    ]
    if not rows:
        modeladmin.message_user(
            request, _("None of the selected messages is a draft."), messages.WARNING
        )
        return back_to(request)
    return confirmation_page(
        modeladmin,
        request,
        action="send_messages",
        title=_("Send SMS"),
        intro=ngettext(
            "This message will be sent now, or at its schedule.",
            "These messages will be sent now, or at their schedule.",
            len(rows),
        ),
        rows=rows,
        skipped=skipped,
        confirm_label=ngettext("Yes, send it", "Yes, send them", len(rows)),
        spends=True,
    )


def quiet_hours_note(message: Message) -> str:
    """What the quiet hours will do to ``message`` when it is sent now ('' for nothing)."""
    from django_smsgo.reasons import Reason
    from django_smsgo.services.carrier_rules import CarrierRuleError, hold_for_quiet_hours

    if message.reason_code == Reason.QUIET_HOURS:
        return message.reason_text  # held when the draft was written
    try:
        _at, note = hold_for_quiet_hours(
            message.kind,
            send_at=message.send_at,
            expires_at=message.expires_at,
            now=timezone.now(),
        )
    except CarrierRuleError as exc:
        return str(exc)
    except ValueError:
        return ""  # malformed QUIET_HOURS: the system checks name them
    return note.text if note is not None else ""


def _send(
    modeladmin: ConsoleAdmin, request: HttpRequest, drafts: list[Message], skipped: int
) -> HttpResponse | None:
    from django_smsgo.services.carrier_rules import CarrierRuleError
    from django_smsgo.services.errors import MessageNotQueueable
    from django_smsgo.services.sending import queue_message

    queued = already = 0
    for message in drafts:
        try:
            if queue_message(message):
                queued += 1
            else:
                already += 1
        except MessageNotQueueable:
            # Sent by an earlier click of the same page in the meantime.
            already += 1
        except SmsgoConfigurationError as exc:
            # The settings keep every SMS from going out: the drafts stay drafts.
            modeladmin.message_user(request, misconfigured_text(exc), messages.ERROR)
            break
        except CarrierRuleError as exc:
            # The points budget or the quiet hours refuse it now; it stays a draft.
            modeladmin.message_user(
                request,
                _("#%(id)s not sent: %(reason)s") % {"id": message.pk, "reason": exc},
                messages.ERROR,
            )
    if queued:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d message is on its way.", "%(count)d messages are on their way.", queued
            )
            % {"count": queued},
            messages.SUCCESS,
        )
        after_spending()
    if already:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d message had already been sent; it was not sent again.",
                "%(count)d messages had already been sent; they were not sent again.",
                already,
            )
            % {"count": already},
            messages.WARNING,
        )
    if skipped:
        modeladmin.message_user(request, skipped_text(skipped), messages.INFO)
    return back_to(request)


def after_spending() -> None:
    """Ask the balance again after a send or a cancel, so the console shows a current figure.

    A balance query sends nothing; when the gateway cannot be asked, the
    console keeps the last figure with its "as of" time.
    """
    from django_smsgo.services.balance import fresh_balance

    fresh_balance(max_age=0)


def misconfigured_text(error: SmsgoConfigurationError) -> str:
    """What staff read when the settings keep any SMS from going out (names the setting)."""
    return _(
        "SMS cannot be sent with this site's settings, so nothing was sent: %(error)s "
        "Ask whoever runs the site to fix it (python manage.py smsgo_doctor lists what is "
        "missing)."
    ) % {"error": error}


def skipped_text(skipped: int) -> str:
    return ngettext(
        "%(count)d selected message was left alone: the action does not apply to it.",
        "%(count)d selected messages were left alone: the action does not apply to them.",
        skipped,
    ) % {"count": skipped}


# -- cancel -----------------------------------------------------------------


@admin.action(
    description=gettext_lazy("Cancel the selected scheduled messages"), permissions=["cancel"]
)
def cancel_messages(
    modeladmin: ConsoleAdmin, request: HttpRequest, queryset: QuerySet[Message]
) -> HttpResponse | None:
    """Cancel scheduled messages at the gateway (drafts and queued ones locally)."""
    if not modeladmin.has_cancel_permission(request):
        raise PermissionDenied
    from django_smsgo.services.cancelling import can_cancel

    now = timezone.now()
    selected = list(queryset.order_by("pk"))
    chosen = [m for m in selected if can_cancel(m, now=now)]
    skipped = len(selected) - len(chosen)
    if confirmed(request):
        return _cancel(modeladmin, request, chosen, skipped)
    # A scheduled message's points were charged when the gateway took it; cancelling
    # refunds them. A draft or queued message has cost nothing yet.
    rows = [Row(m, m.recipient_count, 0, refund=m.points_charged) for m in chosen]
    if not rows:
        modeladmin.message_user(
            request,
            _("None of the selected messages is a draft, queued or scheduled."),
            messages.WARNING,
        )
        return back_to(request)
    return confirmation_page(
        modeladmin,
        request,
        action="cancel_messages",
        title=_("Cancel SMS"),
        intro=_(
            "Scheduled messages are called back from the gateway and their points refunded; "
            "drafts and queued messages are simply not sent."
        ),
        rows=rows,
        skipped=skipped,
        confirm_label=_("Yes, cancel them"),
        spends=False,
    )


def _cancel(
    modeladmin: ConsoleAdmin, request: HttpRequest, chosen: list[Message], skipped: int
) -> HttpResponse | None:
    from django_smsgo.reasons import GATEWAY_CODES
    from django_smsgo.services.cancelling import cancel_message
    from django_smsgo.services.errors import CancelError, MessageNotCancellable

    done = 0
    for message in chosen:
        try:
            outcome = cancel_message(message)
        except CancelError as exc:
            reason = (
                _("its time has come: an SMS the gateway has sent cannot be called back")
                if isinstance(exc, MessageNotCancellable)
                else str(exc)
            )
            modeladmin.message_user(
                request,
                _("Message #%(id)s was not cancelled: %(reason)s")
                % {"id": message.pk, "reason": reason},
                messages.ERROR,
            )
            continue
        refused = outcome.refused
        if refused:
            # The gateway's code in words, its own text beside it.
            msgids = ", ".join(
                f"{b.msgid} ({GATEWAY_CODES.get(b.statuscode or 0, b.statusstr)}: {b.statusstr})"
                for b in refused
            )
            template = (
                _("Message #%(id)s was cancelled only in part: the gateway refused %(msgids)s.")
                if outcome.partial or outcome.cancelled_locally
                else _("Message #%(id)s was not cancelled: the gateway refused %(msgids)s.")
            )
            modeladmin.message_user(
                request, template % {"id": message.pk, "msgids": msgids}, messages.WARNING
            )
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request,
            ngettext("%(count)d message was cancelled.", "%(count)d messages were cancelled.", done)
            % {"count": done},
            messages.SUCCESS,
        )
    if any(m.points_charged for m in chosen):
        after_spending()  # the gateway refunded points: show the balance they came back to
    if skipped:
        modeladmin.message_user(request, skipped_text(skipped), messages.INFO)
    return back_to(request)


# -- refresh ----------------------------------------------------------------


@admin.action(
    description=gettext_lazy("Refresh delivery status from the gateway"), permissions=["refresh"]
)
def refresh_status(
    modeladmin: ConsoleAdmin, request: HttpRequest, queryset: QuerySet[Message]
) -> HttpResponse | None:
    """Ask the gateway now about recipients still waiting for a final status."""
    from django_smsgo.services.polling import poll_delivery_status

    waiting = Recipient.objects.filter(
        message__in=queryset.values("pk"), status__in=(R.SUBMITTED, R.UNCERTAIN)
    ).exists()
    if not waiting:
        modeladmin.message_user(
            request,
            _("None of the selected messages is waiting for a delivery report."),
            messages.INFO,
        )
        return back_to(request)
    result = poll_delivery_status(min_age=0, message_ids=queryset.values_list("pk", flat=True))
    if result.error:
        modeladmin.message_user(
            request,
            _("The gateway could not be asked: %(error)s") % {"error": result.error},
            messages.ERROR,
        )
    else:
        modeladmin.message_user(
            request,
            _("Asked the gateway about %(asked)d SMS; %(changed)d had news.")
            % {"asked": result.asked, "changed": result.changed},
            messages.SUCCESS,
        )
    return back_to(request)


# -- resend -----------------------------------------------------------------


@admin.action(
    description=gettext_lazy("Resend to the uncertain and failed recipients"),
    permissions=["send"],
)
def resend_failed(
    modeladmin: ConsoleAdmin, request: HttpRequest, queryset: QuerySet[Message]
) -> HttpResponse | None:
    """Send the text again, as a new message, to the recipients that failed or are uncertain."""
    if not modeladmin.has_send_permission(request):
        raise PermissionDenied
    counts = dict(
        Recipient.objects.filter(message__in=queryset.values("pk"), status__in=RESENDABLE)
        .values_list("message_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    uncertain = Recipient.objects.filter(
        message__in=queryset.values("pk"), status=R.UNCERTAIN
    ).exists()
    chosen = list(queryset.filter(pk__in=list(counts)).order_by("pk"))
    skipped = queryset.exclude(pk__in=list(counts)).count()
    if confirmed(request):
        return _resend(modeladmin, request, chosen, skipped)
    rows = [Row(m, counts[m.pk], resend_points(m, counts[m.pk])) for m in chosen]
    if not rows:
        modeladmin.message_user(
            request,
            _("No recipient of the selected messages failed or is uncertain."),
            messages.INFO,
        )
        return back_to(request)
    warnings = []
    if uncertain:
        warnings.append(
            _(
                "Uncertain SMS may have reached the phone already: the gateway took the request "
                "but its answer was lost. Sending again may deliver them twice."
            )
        )
    return confirmation_page(
        modeladmin,
        request,
        action="resend_failed",
        title=_("Resend SMS"),
        intro=_(
            "The text of each message is sent again, as a new message, to its recipients that "
            "failed or are uncertain."
        ),
        rows=rows,
        skipped=skipped,
        confirm_label=_("Yes, send them again"),
        spends=True,
        warnings=warnings,
        ticket=signing.dumps({"issued": time.time()}, salt=TICKET_SALT),
    )


def resend_points(message: Message, count: int) -> int:
    """Estimated points to send ``message`` again to ``count`` numbers."""
    from django_smsgo.services.validation import estimate_points

    return estimate_points(
        count, message.body, message.encoding, wap_url=message.wap_url, reply=message.reply
    )


def _ticket_issued(request: HttpRequest) -> float:
    try:
        data = signing.loads(request.POST.get("ticket", ""), salt=TICKET_SALT, max_age=3600)
        return float(data["issued"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise PermissionDenied from None


def _resend(
    modeladmin: ConsoleAdmin, request: HttpRequest, chosen: list[Message], skipped: int
) -> HttpResponse | None:
    from django_smsgo.services.sending import resend_recipients

    issued = datetime.fromtimestamp(_ticket_issued(request), tz=UTC)
    sent = []
    for message in chosen:
        try:
            with transaction.atomic():
                # Lock the original: two clicks of the same page resend once.
                Message.objects.select_for_update().filter(pk=message.pk).first()
                if message.resends.filter(created_at__gte=issued).exists():
                    modeladmin.message_user(
                        request,
                        _("Message #%(id)s had already been resent; it was not sent again.")
                        % {"id": message.pk},
                        messages.WARNING,
                    )
                    continue
                recipients = Recipient.objects.filter(message=message, status__in=RESENDABLE)
                sent.append(resend_recipients(recipients, created_by=request.user))
        except SmsgoError as exc:
            modeladmin.message_user(
                request,
                _("Message #%(id)s was not resent: %(reason)s") % {"id": message.pk, "reason": exc},
                messages.ERROR,
            )
    if sent:
        modeladmin.message_user(
            request,
            ngettext(
                "Resent as message %(ids)s.",
                "Resent as messages %(ids)s.",
                len(sent),
            )
            % {"ids": ", ".join(f"#{m.pk}" for m in sent)},
            messages.SUCCESS,
        )
    if skipped:
        modeladmin.message_user(request, skipped_text(skipped), messages.INFO)
    return back_to(request)


# -- the buttons on a message's page -----------------------------------------


def available_for(
    modeladmin: ConsoleAdmin, request: HttpRequest, message: Message, counts: DeliveryCounts
) -> list[dict[str, str]]:
    """The actions that apply to ``message`` and that the user may run, as buttons."""
    from django_smsgo.services.cancelling import can_cancel

    buttons: list[dict[str, str]] = []
    checks: list[tuple[str, str, str, Callable[[], bool]]] = [
        (
            "send_messages",
            _("Send now…"),
            "primary",
            lambda: message.status == S.DRAFT and modeladmin.has_send_permission(request),
        ),
        (
            "cancel_messages",
            _("Cancel…"),
            "danger",
            lambda: can_cancel(message) and modeladmin.has_cancel_permission(request),
        ),
        (
            "refresh_status",
            _("Refresh status"),
            "",
            lambda: (
                bool(counts.pending or counts.uncertain)
                and message.status not in (S.DRAFT, S.QUEUED)
            ),
        ),
        (
            "resend_failed",
            _("Resend failed…"),
            "",
            lambda: (
                bool(counts.failed or counts.uncertain) and modeladmin.has_send_permission(request)
            ),
        ),
    ]
    for name, label, style, applies in checks:
        if applies():
            buttons.append({"name": name, "label": label, "style": style})
    return buttons

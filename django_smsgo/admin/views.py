"""The admin's own pages: compose, the live estimate (JSON) and the balance refresh.

Each view does the work through a service: ``create_draft()`` stores the
draft, ``estimate()`` counts, ``refresh_balance()`` asks the gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from django_smsgo.admin import actions, saved_texts
from django_smsgo.admin.forms import INVALID_SHOWN, ComposeForm, invalid_pairs
from django_smsgo.admin.stats import last_balance
from django_smsgo.exceptions import (
    EmptyBodyError,
    InvalidEncodingError,
    InvalidNumberError,
    MessageTooLongError,
    OptionNotAllowedError,
    ScheduleError,
    SmsgoConfigurationError,
    SmsgoError,
    UnencodableTextError,
)
from django_smsgo.models import Message
from django_smsgo.services.carrier_rules import CarrierRuleError, PointsBudgetError, QuietHoursError
from django_smsgo.services.errors import DuplicateMessageError, InsufficientBalanceError
from django_smsgo.services.personalising import PlaceholderError

if TYPE_CHECKING:
    from django_smsgo.admin.messages import MessageAdmin


def counter_context(form: ComposeForm) -> dict[str, Any]:
    """What the live counter and the number check show for the form's current input."""
    balance = last_balance()
    estimate = form.estimate
    points = estimate.points if estimate is not None else 0
    kind = (form.cleaned_data.get("kind") if hasattr(form, "cleaned_data") else None) or "marketing"
    return {
        "estimate": estimate,
        "budget": budget_lines(kind, points),
        "invalid": form.shown_invalid(),
        "invalid_total": len(form.invalid),
        "hidden_invalid": form.hidden_invalid_count(),
        "balance": balance,
        "short_of_points": balance.points is not None and points > balance.points,
    }


def budget_lines(kind: str, points: int) -> list[dict[str, Any]]:
    """The ``POINTS_BUDGET`` caps this send would take to the warning share or past them."""
    from django_smsgo.conf import smsgo_settings
    from django_smsgo.services.carrier_rules.budget import budget_use

    ratio = float(smsgo_settings.POINTS_BUDGET_WARNING)
    lines = []
    for use in budget_use(kind, now=timezone.now(), budget=smsgo_settings.POINTS_BUDGET):
        after = use.used + points
        if after >= ratio * use.cap:
            lines.append(
                {
                    "period": use.period,
                    "used": use.used,
                    "after": after,
                    "cap": use.cap,
                    "over": after > use.cap,
                }
            )
    return lines


def estimate_json(request: HttpRequest) -> HttpResponse:
    """The live counter: characters, encoding, segments, numbers and points, nothing stored.

    Takes the compose form as it is (text box and uploaded file alike) and
    answers the counter's and the number check's HTML plus the raw figures.
    """
    if request.method != "POST":
        return JsonResponse({"error": "POST the compose form."}, status=405)
    form = ComposeForm(request.POST, request.FILES)
    form.is_valid()
    estimate = form.estimate
    context = counter_context(form)
    return JsonResponse(
        {
            "encoding": estimate.encoding,
            "characters": estimate.characters,
            "segments": estimate.segments,
            "numbers": estimate.valid_numbers,
            "invalid": [{"value": v, "reason": r} for v, r in form.invalid[:INVALID_SHOWN]],
            "invalid_count": len(form.invalid),
            "points": estimate.points,
            "text_error": estimate.text_error,
            "short_of_points": context["short_of_points"],
            # The carrier rules (docs/taiwan.rst): the text as it goes out, refusals, the hold.
            "body": estimate.body,
            "rule_problems": list(estimate.rule_problems),
            "held": estimate.held,
            "send_at": estimate.send_at.isoformat() if estimate.send_at else None,
            "notes": list(estimate.notes),
            "budget": context["budget"],
            "counter_html": render_to_string(
                "django_smsgo/admin/counter.html", context, request=request
            ),
            "numbers_html": render_to_string(
                "django_smsgo/admin/number_check.html", context, request=request
            ),
        }
    )


def compose(modeladmin: MessageAdmin, request: HttpRequest) -> HttpResponse:
    """The add page: write a message; saving stores a draft through ``create_draft()``."""
    form = ComposeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        message = save_draft(form, request)
        if message is not None:
            return after_save(modeladmin, request, message)
    opts = modeladmin.opts
    context = {
        **modeladmin.admin_site.each_context(request),
        **counter_context(form),
        "opts": opts,
        "app_label": opts.app_label,
        "title": _("Compose SMS"),
        "form": form,
        "media": modeladmin.media + form.media,
        "estimate_url": reverse("admin:django_smsgo_message_estimate"),
        "changelist_url": reverse("admin:django_smsgo_message_changelist"),
        "can_send": modeladmin.has_send_permission(request),
        "show_drop_invalid": bool(form.invalid) or bool(request.POST.get("drop_invalid")),
        "show_allow_duplicate": getattr(form, "duplicate_refused", False)
        or bool(request.POST.get("allow_duplicate")),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/django_smsgo/message/compose.html", context)


def save_draft(form: ComposeForm, request: HttpRequest) -> Message | list[Message] | None:
    """Store the draft; a rule the core refuses becomes an error on the right field.

    Refused before anything is stored when the settings keep any message
    from ever going out (``sending.check_ready()``): a draft that could never
    be sent would only move the surprise to the send button.
    """
    from django_smsgo.services.sending import check_ready, create_draft

    try:
        check_ready()
        if saved_texts.is_personalised(form):
            return saved_texts.create_drafts(form, request)  # one draft per distinct text
        return create_draft(
            form.numbers,
            form.cleaned_data["body"],
            created_by=request.user,
            **form.draft_options(),
        )
    except PlaceholderError as exc:
        form.add_error("body", str(exc))
    except InvalidNumberError as exc:
        form.invalid = invalid_pairs(exc.invalid)
        form.add_error("recipients", form.invalid_message())
    except DuplicateMessageError as exc:
        form.duplicate_refused = True  # type: ignore[attr-defined]
        shown = ", ".join(exc.numbers[:20])
        more = len(exc.numbers) - 20
        form.add_error(
            "recipients",
            _(
                "The same text went to %(numbers)s less than %(minutes)d minutes ago. "
                "Tick the box below to send it again anyway."
            )
            % {
                "numbers": shown + (_(" and %(count)d more") % {"count": more} if more > 0 else ""),
                "minutes": max(exc.window // 60, 1),
            },
        )
    except InsufficientBalanceError as exc:
        form.add_error(
            None,
            _(
                "This message needs about %(needed)d points but the balance is %(balance)d points. "
                "Top up the account or send to fewer numbers."
            )
            % {"needed": exc.needed, "balance": exc.balance},
        )
    except QuietHoursError as exc:
        form.add_error("send_at", str(exc))
    except PointsBudgetError as exc:
        form.add_error(None, str(exc))
    except CarrierRuleError as exc:
        form.add_error("body", str(exc))
    except ScheduleError as exc:
        form.add_error("send_at", str(exc))
    except (EmptyBodyError, MessageTooLongError, UnencodableTextError) as exc:
        form.add_error("body", str(exc))
    except InvalidEncodingError as exc:
        form.add_error("encoding", str(exc))
    except (OptionNotAllowedError, SmsgoError) as exc:
        form.add_error(None, str(exc))
    except SmsgoConfigurationError as exc:
        form.add_error(None, actions.misconfigured_text(exc))
    return None


def after_save(
    modeladmin: MessageAdmin, request: HttpRequest, message: Message | list[Message]
) -> HttpResponse:
    """Log the new draft and go on: to its page, or to the send confirmation."""
    if isinstance(message, list):  # a personalised text: one draft per distinct text
        many = saved_texts.after_save_many(modeladmin, request, message)
        if many is not None:
            return many
        message = message[0]
    modeladmin.log_addition(request, message, [{"added": {}}])
    page = reverse("admin:django_smsgo_message_change", args=[message.pk])
    if "_send" in request.POST and modeladmin.has_send_permission(request):
        request.smsgo_next = page  # type: ignore[attr-defined]
        response = actions.send_messages(modeladmin, request, Message.objects.filter(pk=message.pk))
        if response is not None:
            return response
    modeladmin.message_user(
        request,
        _("Draft #%(id)s saved: %(count)d recipients. Nothing is sent until you send it.")
        % {"id": message.pk, "count": message.recipient_count},
        messages.SUCCESS,
    )
    return HttpResponseRedirect(page)


def refresh_balance(modeladmin: MessageAdmin, request: HttpRequest) -> HttpResponse:
    """Ask the gateway for the balance now and go back to the change list."""
    from django_smsgo.services.balance import refresh_balance as ask_gateway

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not modeladmin.has_view_permission(request):
        raise PermissionDenied
    try:
        snapshot = ask_gateway()
    except (SmsgoError, SmsgoConfigurationError) as exc:
        modeladmin.message_user(
            request,
            _("The balance could not be read: %(error)s") % {"error": exc},
            messages.ERROR,
        )
    else:
        modeladmin.message_user(
            request,
            _("The balance is %(points)s points.") % {"points": f"{snapshot.points:,}"},
            messages.SUCCESS,
        )
    return HttpResponseRedirect(reverse("admin:django_smsgo_message_changelist"))

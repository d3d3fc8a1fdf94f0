"""The admin's own pages: compose, the live estimate (JSON) and the balance refresh.

Each view does the work through a service: ``create_draft()`` stores the
draft, ``estimate()`` counts, ``refresh_balance()`` asks the gateway.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
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
    ScheduleError,
    SmsgoConfigurationError,
    SmsgoError,
    UnencodableTextError,
)
from django_smsgo.models import Message
from django_smsgo.services.carrier_rules import CarrierRuleError, PointsBudgetError, QuietHoursError
from django_smsgo.services.errors import DuplicateMessageError, InsufficientBalanceError
from django_smsgo.services.personalising import PlaceholderError
from django_smsgo.services.wording import (
    characters_shown,
    encoding_words,
    explain,
    number_reason,
)

if TYPE_CHECKING:
    from django_smsgo.admin.console import ConsoleAdmin


def counter_context(form: ComposeForm) -> dict[str, Any]:
    """What the live counter and the number check show for the form's current input."""
    balance = last_balance()
    estimate = form.estimate
    points = estimate.points if estimate is not None else 0
    kind = (form.cleaned_data.get("kind") if hasattr(form, "cleaned_data") else None) or "marketing"
    return {
        "estimate": estimate,
        "text_error": form.text_error(),
        **hint_context(estimate),
        "budget": budget_lines(kind, points),
        "invalid": form.shown_invalid(),
        "invalid_total": len(form.invalid),
        "hidden_invalid": form.hidden_invalid_count(),
        "balance": balance,
        "short_of_points": balance.points is not None and points > balance.points,
    }


def hint_context(estimate: Any) -> dict[str, Any]:
    """The counter's hints: the encoding in words, UCS2 characters, full-width ASCII."""
    if estimate is None:
        return {}
    pairs = list(estimate.full_width)
    return {
        "encoding_words": encoding_words(estimate.encoding),
        "ucs2_shown": characters_shown(list(estimate.ucs2_characters)),
        "full_width_shown": characters_shown([c for c, _h in pairs]),
        "half_width_from": "".join(c for c, _h in pairs),
        "half_width_to": "".join(h for _c, h in pairs),
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
            "text_error": form.text_error(),
            "duplicates": estimate.duplicates,
            "characters_left": estimate.characters_left,
            "ucs2_characters": list(estimate.ucs2_characters),
            "full_width": dict(estimate.full_width),
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


def compose(modeladmin: ConsoleAdmin, request: HttpRequest) -> HttpResponse:
    """The add page: write a message; saving stores a draft through ``create_draft()``.

    ``_back`` (the confirmation's "No, take me back") shows the form again as
    it was, editable and without errors; saving it then replaces that draft.
    """
    back = request.method == "POST" and "_back" in request.POST
    data: QueryDict | None = request.POST or None
    if back:
        data = request.POST.copy()
        # A new key: the old one would hand back the draft being rewritten.
        data["idempotency_key"] = f"admin-compose-{uuid.uuid4().hex}"
    form = ComposeForm(data, request.FILES or None)
    if back:
        form.without_errors()
    elif request.method == "POST":
        if form.is_valid():
            message = save_draft(form, request)
            if message is not None:
                return after_save(modeladmin, request, message, form)
        form.keep_file_numbers()
    can_send = modeladmin.has_send_permission(request)
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
        "can_send": can_send,
        "file_numbers": form.file_numbers_kept,
        "show_drop_invalid": bool(form.invalid) or bool(request.POST.get("drop_invalid")),
        "show_allow_duplicate": getattr(form, "duplicate_refused", False)
        or bool(request.POST.get("allow_duplicate")),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/django_smsgo/message/compose.html", context)


#: Compose fields carried back to the form by "No, take me back" (not the file: its
#: numbers are in ``recipients`` by then; not the idempotency key: a new one is made).
BACK_FIELDS = (
    "recipients",
    "body",
    "encoding",
    "kind",
    "wap_url",
    "send_at_0",
    "send_at_1",
    "reply",
    "reply_days",
    "drop_invalid",
    "allow_duplicate",
)


def back_fields(form: ComposeForm, message: Message) -> list[tuple[str, str]]:
    """The hidden fields that bring the compose form back as it was, to rewrite ``message``."""
    form.keep_file_numbers()
    data = form.data
    fields = [
        (name, value)
        for name in BACK_FIELDS
        for value in (data.getlist(name) if isinstance(data, QueryDict) else [])
    ]
    return [*fields, ("replaces", str(message.pk)), ("_back", "1")]


def save_draft(form: ComposeForm, request: HttpRequest) -> Message | list[Message] | None:
    """Store the draft; a rule the core refuses becomes an error on the right field.

    Refused before anything is stored when the settings keep any message
    from ever going out (``sending.check_ready()``): a draft that could never
    be sent would only move the surprise to the send button.
    """
    from django_smsgo.services.sending import check_ready, create_draft, discard_draft

    try:
        check_ready()
        if saved_texts.is_personalised(form):
            message: Message | list[Message] = saved_texts.create_drafts(form, request)
        else:
            message = create_draft(
                form.numbers,
                form.cleaned_data["body"],
                created_by=request.user,
                **form.draft_options(),
            )
    except SmsgoConfigurationError as exc:
        form.add_error(None, actions.misconfigured_text(exc))
        return None
    except PlaceholderError as exc:
        form.add_error("body", str(exc))
        return None
    except SmsgoError as exc:
        refused(form, exc)
        return None
    if form.cleaned_data.get("replaces"):
        discard_draft(form.cleaned_data["replaces"], created_by=request.user)
    return message


def refused(form: ComposeForm, exc: SmsgoError) -> None:
    """Put the core's refusal on the field it concerns, in the reader's language."""
    if isinstance(exc, InvalidNumberError):
        form.invalid = [(v, number_reason(r)) for v, r in invalid_pairs(exc.invalid)]
        form.add_error("recipients", form.invalid_message())
    elif isinstance(exc, DuplicateMessageError):
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
    elif isinstance(exc, InsufficientBalanceError):
        form.add_error(
            None,
            _(
                "This message needs about %(needed)d points but the balance is %(balance)d points. "
                "Top up the account or send to fewer numbers."
            )
            % {"needed": exc.needed, "balance": exc.balance},
        )
    elif isinstance(exc, QuietHoursError):
        form.add_error("send_at", str(exc))
    elif isinstance(exc, PointsBudgetError):
        form.add_error(None, str(exc))
    elif isinstance(exc, CarrierRuleError):
        form.add_error("body", str(exc))
    elif isinstance(exc, ScheduleError):
        form.add_error("send_at", explain(exc))
    elif isinstance(exc, (EmptyBodyError, MessageTooLongError, UnencodableTextError)):
        form.add_error("body", explain(exc))
    elif isinstance(exc, InvalidEncodingError):
        form.add_error("encoding", explain(exc))
    else:
        form.add_error(None, explain(exc))


def after_save(
    modeladmin: ConsoleAdmin,
    request: HttpRequest,
    message: Message | list[Message],
    form: ComposeForm,
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
        request.smsgo_compose = {  # type: ignore[attr-defined]
            "back": back_fields(form, message),
            "left_out": list(form.invalid) if form.cleaned_data.get("drop_invalid") else [],
            "given": len(form.numbers) + len(form.invalid),
            "duplicates": getattr(form.estimate, "duplicates", 0),
        }
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


def refresh_balance(modeladmin: ConsoleAdmin, request: HttpRequest) -> HttpResponse:
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


def forbidden(modeladmin: ConsoleAdmin, request: HttpRequest, action: str) -> HttpResponse:
    """The 403 page for an action the user's permissions do not include, with what they can do."""
    opts = modeladmin.opts
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": _("You may not do this"),
        "action": action,
        "can_add": modeladmin.has_add_permission(request),
        "changelist_url": reverse("admin:django_smsgo_message_changelist"),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "django_smsgo/admin/forbidden.html", context, status=403)

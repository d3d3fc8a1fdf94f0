"""Ask for a number, text it a code, check the code: ``send_otp()`` in a real page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from django_smsgo.codes import send_otp, verify_otp
from django_smsgo.codes.errors import CodeRefused
from django_smsgo.codes.service import CheckResult
from django_smsgo.exceptions import SmsgoError, SmsgoValidationError
from django_smsgo.models import Recipient
from verification import codes
from verification.forms import CodeForm, PhoneForm

REFUSED = {
    CheckResult.WRONG: "Wrong code ({left} tries left).",
    CheckResult.EXPIRED: "The code has expired: ask for a new one.",
    CheckResult.TOO_MANY_ATTEMPTS: "Too many wrong codes: ask for a new one.",
    CheckResult.NONE_PENDING: "No code is waiting for this number: ask for one first.",
}


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Send a one-time code to the number in the form."""
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = send_otp(
                form.cleaned_data["phone"],
                # The per-key caps stop one client asking for codes for many numbers.
                key=request.META.get("REMOTE_ADDR") or None,
                created_by=request.user if request.user.is_authenticated else None,
            )
        except SmsgoValidationError as exc:
            # A bad number: the error names it and the rule it breaks.
            form.add_error("phone", str(exc))
        except CodeRefused as exc:
            # Cooldown, a send cap or the points budget: it says when to try again.
            form.add_error(None, str(exc))
        except SmsgoError as exc:
            # The balance is too low.
            form.add_error(None, str(exc))
        else:
            codes.remember(request.session, sent.phone, sent.message.pk)
            return redirect("verification:confirm")
    return render(request, "verification/start.html", {"form": form})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """Check the code; show how the SMS is doing meanwhile."""
    state = codes.pending(request.session)
    if state is None:
        return redirect("verification:start")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = verify_otp(state["phone"], form.cleaned_data["code"])
        if check:
            codes.forget(request.session)
            messages.success(request, f"{state['phone']} is verified.")
            return redirect("verification:start")
        form.add_error("code", REFUSED[check.result].format(left=check.attempts_left))
    recipient = Recipient.objects.filter(message_id=state["message_id"]).first()
    return render(
        request,
        "verification/confirm.html",
        {"form": form, "phone": state["phone"], "recipient": recipient},
    )

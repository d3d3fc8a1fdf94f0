"""Ask for a number, text it a code, check the code: ``send_sms()`` in a real page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from django_smsgo import send_sms
from django_smsgo.exceptions import SmsgoError, SmsgoValidationError
from django_smsgo.models import Message, Recipient
from verification import codes
from verification.forms import CodeForm, PhoneForm


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Send a one-time code to the number in the form."""
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = codes.new_code()
        try:
            message = send_sms(
                form.cleaned_data["phone"],
                f"您的驗證碼是 {code}，5 分鐘內有效。Your code is {code}.",
                # One-time codes jump the queue and reach numbers that opted
                # out of marketing SMS.
                priority=Message.Priority.HIGH,
                kind="transactional",
                created_by=request.user if request.user.is_authenticated else None,
            )
        except SmsgoValidationError as exc:
            # A bad number: the error names it and the rule it breaks.
            form.add_error("phone", str(exc))
        except SmsgoError as exc:
            # Sent the same code text too recently, or the balance is too low.
            form.add_error(None, str(exc))
        else:
            phone = message.recipients.values_list("phone", flat=True).first() or ""
            codes.remember(request.session, phone, code, message.pk)
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
        refusal = codes.check(request.session, form.cleaned_data["code"])
        if refusal is None:
            messages.success(request, f"{state['phone']} is verified.")
            return redirect("verification:start")
        form.add_error("code", refusal)
    recipient = Recipient.objects.filter(message_id=state["message_id"]).first()
    return render(
        request,
        "verification/confirm.html",
        {"form": form, "phone": state["phone"], "recipient": recipient},
    )

"""The send log (發送紀錄): every recipient across messages, searchable, and its exports.

A page of the message admin (``/admin/django_smsgo/message/log/``) rather than
an admin of its own: the rows are recipients, the permission is the message's
view permission, and no model or migration is needed. The rows, the paging
and the counting are :mod:`django_smsgo.services.send_log`'s; the files are
:mod:`django_smsgo.services.exports`'s. This module parses the request and
answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from django_smsgo.admin import exports
from django_smsgo.admin.stats import taipei_time
from django_smsgo.models import Message, Recipient
from django_smsgo.services import send_log

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _Base = ModelAdmin[Message]
else:
    _Base = object

#: The shortest run of digits searched for inside numbers.
MIN_DIGITS = 3
#: Characters of a text shown in a row (the export has it whole).
TEXT_SHOWN = 60


class SendLogForm(forms.Form):
    """The send log's filters: number, status, sender and a range of Taiwan days."""

    q = forms.CharField(
        label=gettext_lazy("Phone number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "0912-345-678", "inputmode": "tel"}
        ),
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    sender = forms.TypedChoiceField(
        label=gettext_lazy("Sender"), required=False, coerce=int, empty_value=None
    )
    since = forms.DateField(
        label=pgettext_lazy("send log days", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=pgettext_lazy("send log days", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [("", _("Any status")), *Recipient.Status.choices]
        sender_field = self.fields["sender"]
        assert isinstance(sender_field, forms.ChoiceField)
        sender_field.choices = [("", _("Anyone")), *sender_choices()]

    def clean_q(self) -> str:
        from django_smsgo.client.numbers import normalize_number
        from django_smsgo.exceptions import SmsgoValidationError

        value: str = self.cleaned_data["q"].strip()
        self.partial_number = False
        if not value:
            return ""
        try:
            return normalize_number(value)
        except SmsgoValidationError:
            pass
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) < MIN_DIGITS or any(ch.isalpha() for ch in value):
            raise forms.ValidationError(
                _(
                    "“%(value)s” is not a phone number: enter a number, or at least "
                    "%(digits)d of its digits."
                )
                % {"value": value, "digits": MIN_DIGITS}
            )
        self.partial_number = True
        return digits

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error(
                "until",
                _("The last day (%(until)s) is before the first (%(since)s).")
                % {"until": until.isoformat(), "since": since.isoformat()},
            )
        return cleaned

    def log_filter(self, *, message: int | None = None) -> send_log.LogFilter:
        """The filter the valid form describes."""
        data = self.cleaned_data
        phone = data.get("q") or ""
        return send_log.LogFilter(
            phone=phone,
            partial=getattr(self, "partial_number", False),
            status=data.get("status") or "",
            sender=data.get("sender"),
            since=data.get("since"),
            until=data.get("until"),
            message=message,
        )


def sender_choices() -> list[tuple[int, str]]:
    """The staff who wrote at least one message, by user name (one query)."""
    users = get_user_model().objects.filter(
        pk__in=Message.objects.filter(created_by__isnull=False).values("created_by")
    )
    return sorted(((u.pk, u.get_username()) for u in users), key=lambda pair: pair[1])


def filter_query(form: SendLogForm) -> str:
    """The filters as a query string (no page key), for the export links and the pages."""
    query = QueryDict(mutable=True)
    if form.is_bound:
        for name in form.fields:
            value = form.data.get(name, "")
            if value:
                query[name] = value
    return query.urlencode()


def cursor(request: HttpRequest, name: str) -> int | None:
    """The page key ``name`` of the query string (a row's id), None when absent or malformed."""
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


class LogRow:
    """A recipient as a row of the log shows it."""

    def __init__(self, recipient: Recipient) -> None:
        self.recipient = recipient
        self.message = recipient.message
        self.phone = recipient.intended_phone or recipient.phone
        self.withheld = bool(getattr(recipient, "is_code", False))
        body = self.message.body.replace("\n", " ")
        self.text = body if len(body) <= TEXT_SHOWN else body[: TEXT_SHOWN - 1] + "…"
        self.sent = taipei_time(recipient.submitted_at)
        self.final = taipei_time(recipient.final_at)
        self.sender = self.message.created_by.get_username() if self.message.created_by else ""


class SendLogAdminMixin(_Base):
    """The send log's pages on the message admin: the log, its export, a message's export."""

    send_log_template = "admin/django_smsgo/message/send_log.html"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("log/", wrap(self.send_log_view), name="django_smsgo_message_send_log"),
            path(
                "log/export/",
                wrap(self.send_log_export_view),
                name="django_smsgo_message_send_log_export",
            ),
            path(
                "<int:object_id>/export/",
                wrap(self.recipients_export_view),
                name="django_smsgo_message_export",
            ),
            *super().get_urls(),
        ]

    def send_log_view(self, request: HttpRequest) -> HttpResponse:
        """The log: filters, one page of rows, links to the pages either side and to exports."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SendLogForm(request.GET or None)
        valid = form.is_valid() if form.is_bound else True
        log_page = send_log.LogPage([], None, None)
        count, more = 0, False
        if valid:
            log_filter = form.log_filter() if form.is_bound else send_log.LogFilter()
            rows = send_log.recipients(log_filter)
            log_page = send_log.page(
                rows, before=cursor(request, "before"), after=cursor(request, "after")
            )
            count, more = send_log.matching(rows)
        query = filter_query(form)
        joiner = f"{query}&" if query else ""
        export_url = reverse("admin:django_smsgo_message_send_log_export")
        opts = self.opts
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "app_label": opts.app_label,
            "title": _("Send log"),
            "subtitle": None,
            "form": form,
            "rows": [LogRow(r) for r in log_page.rows],
            "log_page": log_page,
            "count": count,
            "more": more,
            "count_cap": send_log.COUNT_CAP,
            "filtered": bool(query),
            "newer_url": f"?{joiner}after={log_page.newer}" if log_page.newer else "",
            "older_url": f"?{joiner}before={log_page.older}" if log_page.older else "",
            "first_url": f"?{query}" if log_page.newer else "",
            "csv_url": f"{export_url}?{joiner}format=csv",
            "xlsx_url": f"{export_url}?{joiner}format=xlsx",
            "changelist_url": reverse("admin:django_smsgo_message_changelist"),
            "statuses": Recipient.Status,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.send_log_template, context)

    def send_log_export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The log, as filtered, as a CSV or XLSX download (streamed)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SendLogForm(request.GET)
        kind = request.GET.get("format", "")
        if not form.is_valid() or kind not in exports.FORMATS:
            return self.send_log_view(request)
        rows = send_log.recipients(form.log_filter())
        return exports.download(rows, kind, name="smsgo-send-log", sheet=_("Send log"))

    def recipients_export_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        """One message's recipients (optionally of one status) as a CSV or XLSX download."""
        message = self.get_object(request, str(object_id))
        if message is None or not self.has_view_permission(request, message):
            raise PermissionDenied
        kind = request.GET.get("format", "")
        if kind not in exports.FORMATS:
            return exports.unknown_format(request, kind)
        status = request.GET.get("rstatus", "")
        log_filter = send_log.LogFilter(
            message=message.pk, status=status if status in Recipient.Status.values else ""
        )
        rows = send_log.recipients(log_filter).order_by("pk")
        return exports.download(
            rows, kind, name=f"smsgo-message-{message.pk}", sheet=_("Recipients")
        )

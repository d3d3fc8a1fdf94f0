"""The message admin: the staff's SMS console.

The change list shows each message with a delivery bar, the seven-day summary
and the balance; the add page is the compose form; a message's page shows its
recipients (paginated), delivery-report history and replies. Nothing about a
message is edited by hand: statuses change only through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from django_smsgo.admin import actions, history, views
from django_smsgo.admin.display import ActionCheckboxMixin, delivery_bar
from django_smsgo.admin.list_columns import ListColumnsMixin
from django_smsgo.admin.send_log import SendLogAdminMixin
from django_smsgo.admin.stats import (
    TAIPEI,
    attach_counts,
    cached_summary,
    last_balance,
    recipient_counts,
    taipei_time,
)
from django_smsgo.admin.tags import TagFilter
from django_smsgo.models import Batch, DeliveryReport, Message, Recipient, Reply
from django_smsgo.services.wording import encoding_words, source_words, status_words

RECIPIENTS_PER_PAGE = 50

#: Each status's label (lazy: translated when shown).
STATUS_LABELS = dict(Message.Status.choices)
HISTORY_SHOWN = 20


class CountedPaginator(Paginator):
    """A paginator that can be told its count instead of asking the database."""

    known_count: int | None = None

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        return super().count


class MessageChangeList(ChangeList):
    """The change list, with every listed message's delivery counts fetched in one query."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        attach_counts(self.result_list)


def number_search(term: str) -> str | None:
    """The normalised number when ``term`` is a phone number, else None."""
    from django_smsgo.client.numbers import normalize_number
    from django_smsgo.exceptions import SmsgoValidationError

    if sum(ch.isdigit() for ch in term) < 6:
        return None
    try:
        return normalize_number(term)
    except SmsgoValidationError:
        return None


class MessageAdmin(
    history.HistoryAdminMixin,
    SendLogAdminMixin,
    ListColumnsMixin,
    ActionCheckboxMixin,
    admin.ModelAdmin,
):
    """Compose, send, schedule, cancel and follow SMS."""

    list_display = [
        "number",
        "text",
        "status_badge",
        "delivery",
        "recipients",
        "points",
        "schedule",
        "sent",
    ]
    list_display_links = ["number", "text"]
    list_filter = [
        "status",
        "kind",
        "created_at",
        ("created_by", admin.RelatedOnlyFieldListFilter),
        TagFilter,
    ]
    search_fields = ["body"]
    search_help_text = _("Search by text, by a recipient's number or by a gateway msgid.")
    list_select_related = ["created_by"]
    list_per_page = 50
    date_hierarchy = None
    actions = [
        history.logged(actions.send_messages),
        history.logged(actions.cancel_messages),
        actions.refresh_status,
        history.logged(actions.resend_failed),
    ]
    change_list_template = "admin/django_smsgo/message/change_list.html"
    change_form_template = "admin/django_smsgo/message/change_form.html"

    # -- permissions -----------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nobody edits a message or a status by hand; the page is view-only.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A message is history (and may have 100,000 recipients); drafts are cancelled instead.
        return False

    def has_send_permission(self, request: HttpRequest) -> bool:
        """The ``send_sms`` permission: send drafts and resend recipients."""
        return request.user.has_perm("django_smsgo.send_sms")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        """The ``cancel_sms`` permission: cancel scheduled messages and drafts."""
        return request.user.has_perm("django_smsgo.cancel_sms")

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        """Asking the gateway for statuses spends nothing: the view permission is enough."""
        return self.has_view_permission(request)

    # -- the change list -------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return MessageChangeList

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Message], search_term: str
    ) -> tuple[QuerySet[Message], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        phone = number_search(term)
        if phone is not None:
            # EXISTS, not a join: no duplicates and no DISTINCT over 100,000 recipients.
            with_number = Recipient.objects.filter(message=OuterRef("pk")).filter(
                Q(phone=phone) | Q(intended_phone=phone)
            )
            return queryset.filter(Exists(with_number)), False
        if term.isdigit() and len(term) >= 10:
            with_msgid = Batch.objects.filter(message=OuterRef("pk"), msgid=term)
            return queryset.filter(Exists(with_msgid) | Q(body__icontains=term)), False
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            refusal = self.refuse_forbidden_action(request)
            if refusal is not None:
                return refusal
        context = {
            "title": _("SMS messages"),
            "summary": cached_summary(),
            "balance": last_balance(),
            "can_refresh_balance": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def refuse_forbidden_action(self, request: HttpRequest) -> HttpResponse | None:
        """An admin page with status 403 for an action the user may not run.

        Rather than Django's quiet "no action" or a bare "403 Forbidden": the
        page says, in the admin's style and language, what they may do instead.
        """
        known = {actions.action_name(a) for a in self.actions or []}
        allowed = set(self.get_actions(request))
        for name in request.POST.getlist("action"):
            if name in known and name not in allowed:
                return views.forbidden(self, request, name)
        return None

    @admin.display(description=_("message"), ordering="pk")
    def number(self, message: Message) -> str:
        return f"#{message.pk}"

    @admin.display(description=_("text"))
    def text(self, message: Message) -> str:
        body = message.body.replace("\n", " ")
        return body if len(body) <= 60 else body[:59] + "…"

    @admin.display(description=_("points"), ordering="estimated_points")
    def points(self, message: Message) -> int:
        # What it really cost once the gateway took it (a cancel refunds: 0); until
        # then the estimate.
        if message.status in (Message.Status.DRAFT, Message.Status.QUEUED):
            return message.estimated_points
        if message.status == Message.Status.CANCELLED and not message.submitted_at:
            return 0
        return message.points_charged

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, message: Message) -> str:
        # Not get_status_display(): it hashes every choice's lazy label (a
        # translation each) to find one, nine translations per row.
        return format_html(
            '<span class="smsgo-badge smsgo-status-{}">{}</span>',
            message.status,
            STATUS_LABELS.get(message.status, message.status),
        )

    @admin.display(description=_("delivery"))
    def delivery(self, message: Message) -> str:
        return delivery_bar(
            getattr(message, "delivery_counts", None), draft=message.status == Message.Status.DRAFT
        )

    @admin.display(description=_("schedule (Taiwan)"), ordering="send_at")
    def schedule(self, message: Message) -> str:
        return taipei_time(message.send_at) or "—"

    # -- compose, and the message page ---------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "estimate/",
                wrap(self.estimate_view),
                name="django_smsgo_message_estimate",
            ),
            path(
                "balance/refresh/",
                wrap(self.refresh_balance_view),
                name="django_smsgo_message_refresh_balance",
            ),
            *super().get_urls(),
        ]

    def estimate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return views.estimate_json(request)

    def refresh_balance_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return views.refresh_balance(self, request)

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return views.compose(self, request)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied  # the page is view-only; actions post to the change list
        message = self.get_object(request, object_id)
        if message is None or not self.has_view_permission(request, message):
            return super().change_view(request, object_id, form_url, extra_context)
        return self.message_page(request, message)

    def message_page(self, request: HttpRequest, message: Message) -> TemplateResponse:
        """The message's page: figures, actions, recipients, reports and replies."""
        counts = recipient_counts([message.pk])[message.pk]
        status_filter = request.GET.get("rstatus", "")
        phone_filter = request.GET.get("rq", "").strip()
        recipients = Recipient.objects.filter(message=message).select_related("batch")
        known_count: int | None = counts.total
        if status_filter in Recipient.Status.values:
            recipients = recipients.filter(status=status_filter)
            known_count = counts.by_status.get(status_filter, 0)
        if phone_filter:
            phone = number_search(phone_filter)
            if phone is not None:
                # A whole number: found by an index, however many recipients.
                recipients = recipients.filter(Q(phone=phone) | Q(intended_phone=phone))
            else:
                recipients = recipients.filter(
                    Q(phone__contains=phone_filter) | Q(intended_phone=phone_filter)
                )
            known_count = None
        paginator = CountedPaginator(recipients.order_by("pk"), RECIPIENTS_PER_PAGE)
        if known_count is not None:
            # The status counts were just read: no second COUNT over 100,000 rows.
            paginator.known_count = known_count
        page = paginator.get_page(request.GET.get("rpage"))
        reports = list(
            DeliveryReport.objects.filter(recipient__message=message)
            .select_related("recipient")
            .order_by("-received_at", "-pk")[:HISTORY_SHOWN]
        )
        # The vendor's codes (DELIVRD, UNDELIV…) in words, the code kept beside them.
        for row in [*page.object_list, *reports]:
            code = getattr(row, "gateway_status", None) or getattr(row, "statusstr", "")
            row.status_words = status_words(code)
        for report in reports:
            report.source_words = source_words(report.source)  # type: ignore[attr-defined]
        replies = Reply.objects.filter(message=message).order_by("-received_at", "-pk")[
            :HISTORY_SHOWN
        ]
        opts = self.opts
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "app_label": opts.app_label,
            "title": str(message),
            "subtitle": None,
            "original": message,
            "message": message,
            "send_at_taipei": timezone.localtime(message.send_at, TAIPEI)
            if message.send_at
            else None,
            "counts": counts,
            "delivery_bar": delivery_bar(counts, draft=message.status == Message.Status.DRAFT),
            "page": page,
            "paginator": paginator,
            "status_filter": status_filter,
            "phone_filter": phone_filter,
            "recipient_statuses": Recipient.Status.choices,
            "reports": reports,
            "encoding_words": encoding_words(message.encoding),
            "replies": list(replies),
            "resends": list(message.resends.order_by("pk")[:HISTORY_SHOWN]),
            "actions_for_message": actions.available_for(self, request, message, counts),
            "history": history.entries(message),
            "export_url": reverse("admin:django_smsgo_message_export", args=[message.pk]),
            "changelist_url": reverse("admin:django_smsgo_message_changelist"),
            "reports_url": reverse("admin:django_smsgo_deliveryreport_changelist")
            + f"?recipient__message__id__exact={message.pk}",
            "replies_url": reverse("admin:django_smsgo_reply_changelist")
            + f"?message__id__exact={message.pk}",
            "has_view_permission": True,
            "is_popup": False,
            "to_field": None,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

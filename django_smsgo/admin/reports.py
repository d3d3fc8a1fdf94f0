"""Read-only admins: delivery reports, replies, balance snapshots; and the opt-out list.

Delivery reports and replies are what the gateway told us; nobody may add,
change or delete them by hand. Suppressed numbers are the one list staff edit.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from django_smsgo.admin.counting import BoundedCountMixin
from django_smsgo.admin.display import ActionCheckboxMixin
from django_smsgo.client.statuses import FINAL_STATE_DESCRIPTIONS
from django_smsgo.models import BalanceSnapshot, DeliveryReport, Reply, Suppression
from django_smsgo.services.suppression import phone_variants


def stock_lookup_allowed(admin_super: Any, lookup: str, value: str, request: Any) -> bool:
    """ModelAdmin's own ``lookup_allowed``: Django 5.0 added ``request``, 4.2 has none."""
    if request is None:
        return bool(admin_super.lookup_allowed(lookup, value))
    return bool(admin_super.lookup_allowed(lookup, value, request))


class ReadOnlyAdmin(ActionCheckboxMixin, admin.ModelAdmin):
    """Viewable with the view permission; never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def message_link(message_id: int | None) -> str:
    if message_id is None:
        return "—"
    url = reverse("admin:django_smsgo_message_change", args=[message_id])
    return format_html('<a href="{}">#{}</a>', url, message_id)


class GatewayStateFilter(admin.SimpleListFilter):
    """The gateway's states of table 2, without reading which ones the table holds."""

    title = _("status")
    parameter_name = "statusstr"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(state, state) for state in FINAL_STATE_DESCRIPTIONS]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[DeliveryReport]
    ) -> QuerySet[DeliveryReport]:
        value = self.value()
        return queryset.filter(statusstr=value) if value else queryset


class DeliveryReportAdmin(BoundedCountMixin, ReadOnlyAdmin):
    """Every status observation, as it arrived (callback or status query)."""

    list_display = [
        "received_at",
        "msgid",
        "phone",
        "statusstr",
        "statuscode",
        "source",
        "outcome_badge",
        "message",
    ]
    # No date hierarchy and no list of every stored status: both read a
    # column of every row, and the list must not slow down as reports pile up.
    list_filter = ["source", "outcome", GatewayStateFilter, "received_at"]
    search_fields = ["=msgid", "=phone"]
    search_help_text = _("Search by the exact msgid or phone number.")
    list_select_related = ["recipient"]
    readonly_fields = [
        "recipient",
        "batch",
        "msgid",
        "phone",
        "statuscode",
        "statusstr",
        "source",
        "outcome",
        "raw",
        "received_at",
    ]
    raw_id_fields = ["recipient", "batch"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The message page links here filtered on its own reports.
        if lookup == "recipient__message__id__exact":
            return True
        return stock_lookup_allowed(super(), lookup, value, request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[DeliveryReport], search_term: str
    ) -> tuple[QuerySet[DeliveryReport], bool]:
        """The exact msgid or number, compared in the indexed columns themselves."""
        from django_smsgo.admin.messages import number_search

        term = search_term.strip()
        if not term:
            return queryset, False
        phone = number_search(term) or term
        return queryset.filter(Q(msgid=term) | Q(phone=phone)), False

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_badge(self, report: DeliveryReport) -> str:
        return format_html(
            '<span class="smsgo-badge smsgo-outcome-{}">{}</span>',
            report.outcome,
            report.get_outcome_display(),
        )

    @admin.display(description=_("message"))
    def message(self, report: DeliveryReport) -> str:
        return message_link(report.recipient.message_id if report.recipient else None)


class ReplyAdmin(BoundedCountMixin, ReadOnlyAdmin):
    """The receivers' answers forwarded by the gateway."""

    list_display = ["received_at", "from_phone", "body", "is_opt_out", "message_link"]
    list_filter = ["is_opt_out", "received_at"]
    search_fields = ["=from_phone", "body", "=msgid"]
    search_help_text = _("Search by the sender's number, the text or the msgid.")
    readonly_fields = [
        "message",
        "recipient",
        "msgid",
        "from_phone",
        "to_phone",
        "body",
        "encoding",
        "sent_at",
        "is_opt_out",
        "raw",
        "received_at",
    ]
    raw_id_fields = ["message", "recipient"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Reply], search_term: str
    ) -> tuple[QuerySet[Reply], bool]:
        """A number or a msgid is looked up in its indexed column; other words in the text.

        Searching every text for digits would read every reply (the list
        would slow down with the table); a number is what such a search means.
        """
        from django_smsgo.admin.messages import number_search

        term = search_term.strip()
        phone = number_search(term)
        if phone is not None or (term.isdigit() and len(term) >= 6):
            found = queryset.filter(Q(from_phone=phone or term) | Q(msgid=term))
            return found, False
        return super().get_search_results(request, queryset, search_term)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup == "message__id__exact":
            return True
        return stock_lookup_allowed(super(), lookup, value, request)

    @admin.display(description=_("message"), ordering="message")
    def message_link(self, reply: Reply) -> str:
        return message_link(reply.message_id)


class BalanceSnapshotAdmin(ReadOnlyAdmin):
    """The balance as the gateway reported it over time."""

    list_display = ["checked_at", "points"]
    date_hierarchy = "checked_at"


class SuppressionForm(forms.ModelForm):
    """A number typed in any common form is stored the way the gateway spells it."""

    class Meta:
        model = Suppression
        fields = ["phone", "reason", "note"]

    def clean_phone(self) -> str:
        from django_smsgo.client.numbers import normalize_number
        from django_smsgo.exceptions import SmsgoValidationError

        value = self.cleaned_data["phone"]
        try:
            phone = normalize_number(value)
        except SmsgoValidationError as exc:
            raise forms.ValidationError(str(exc)) from None
        existing = Suppression.objects.filter(phone__in=phone_variants(phone))
        if self.instance.pk:
            existing = existing.exclude(pk=self.instance.pk)
        if existing.exists():
            raise forms.ValidationError(_("This number is already on the list."))
        return phone


class SuppressionAdmin(ActionCheckboxMixin, admin.ModelAdmin):
    """Numbers that receive no marketing SMS; staff may add and remove them."""

    form = SuppressionForm

    list_display = ["phone", "reason", "note", "created_at"]
    list_filter = ["reason", "created_at"]
    search_fields = ["=phone", "note"]
    readonly_fields = ["reply", "created_at"]
    fields = ["phone", "reason", "note", "reply", "created_at"]


def register(site: admin.AdminSite) -> None:
    """Register the read-only admins and the opt-out list on ``site``."""
    site.register(DeliveryReport, DeliveryReportAdmin)
    site.register(Reply, ReplyAdmin)
    site.register(BalanceSnapshot, BalanceSnapshotAdmin)
    site.register(Suppression, SuppressionAdmin)

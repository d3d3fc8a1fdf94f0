"""The opt-out evidence: the log of refusals and opt-ins, exportable as CSV.

``ConsentRecord`` rows are written by the services (a reply with a keyword,
staff editing the opt-out list, the API) and never edited here. The opt-out
list's admin is extended so that staff adding or removing a number is logged
with their name, like a reply is.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_smsgo.admin.reports import ReadOnlyAdmin, SuppressionAdmin
from django_smsgo.models import ConsentRecord, Suppression
from django_smsgo.services.suppression import suppress, unsuppress

# A spreadsheet runs a cell that starts with one of these as a formula; the
# texts of replies come from anybody, so they are defused in the export.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = ("time", "phone", "action", "source", "reply_text", "note", "by", "reply_id")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def consent_csv(records: QuerySet[ConsentRecord]) -> str:
    """The records as CSV, oldest first: ISO 8601 times in Asia/Taipei, texts defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    taipei = timezone.get_fixed_timezone(8 * 60)
    rows = records.select_related("created_by").order_by("created_at", "pk")
    for record in rows.iterator(chunk_size=2000):
        writer.writerow(
            [
                record.created_at.astimezone(taipei).isoformat(),
                record.phone,
                record.action,
                record.source,
                _cell(record.reply_text),
                _cell(record.note),
                record.created_by.get_username() if record.created_by else "",
                record.reply_id or "",
            ]
        )
    return out.getvalue()


class ConsentRecordAdmin(ReadOnlyAdmin):
    """Every opt-out and opt-in, with time, source and the reply's words."""

    list_display = ["created_at", "phone", "action", "source", "reply_text", "created_by"]
    list_filter = ["action", "source", "created_at"]
    search_fields = ["=phone", "reply_text", "note"]
    search_help_text = _("Search by number (as stored, e.g. 0912345678) or by text.")
    date_hierarchy = "created_at"
    list_select_related = ["created_by"]
    actions = ["export_csv"]

    @admin.action(description=_("Export the selected records as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ConsentRecord]) -> HttpResponse:
        # A BOM, so that spreadsheet programs read the Chinese replies as UTF-8.
        response = HttpResponse(
            "\ufeff" + consent_csv(queryset), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="smsgo-opt-outs-{stamp}.csv"'
        return response


class LoggedSuppressionAdmin(SuppressionAdmin):
    """The opt-out list; adding or removing a number is logged as the staff member's act."""

    def save_model(self, request: HttpRequest, obj: Suppression, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        entry = suppress(obj.phone, obj.reason, note=obj.note, source="staff", by=request.user)
        obj.pk, obj.created_at = entry.pk, entry.created_at

    def delete_model(self, request: HttpRequest, obj: Suppression) -> None:
        unsuppress(obj.phone, source="staff", by=request.user, note=obj.note)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Suppression]) -> None:
        for entry in queryset:
            unsuppress(entry.phone, source="staff", by=request.user, note=entry.note)


def register(site: admin.AdminSite) -> None:
    """Register the consent log, and the logging opt-out list in place of the plain one."""
    site.register(ConsentRecord, ConsentRecordAdmin)
    if site.is_registered(Suppression):
        site.unregister(Suppression)
    site.register(Suppression, LoggedSuppressionAdmin)

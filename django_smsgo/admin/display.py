"""Small pieces of HTML the console repeats on every row: the delivery bar, the checkbox."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_smsgo.admin.stats import DeliveryCounts


def delivery_bar(counts: DeliveryCounts | None, *, draft: bool = False) -> SafeString:
    """The bar (delivered / pending / uncertain / failed / cancelled) and the counts under it.

    Built in Python rather than from a template: the change list draws one
    per row, and this keeps a page of 50 rows cheap. A draft's recipients are
    waiting for nobody but staff: a grey bar that says "not sent yet", never
    the blue of SMS on their way.
    """
    if counts is None or not counts.total:
        return format_html('<span class="smsgo-bar-counts">{}</span>', "—")
    if draft:
        words = ngettext(
            "%(count)s recipient, not sent yet", "%(count)s recipients, not sent yet", counts.total
        ) % {"count": counts.total}
        return format_html(
            '<div class="smsgo-bar smsgo-bar-draft" role="img" aria-label="{}">'
            '<span class="draft" style="width: 100%"></span></div>'
            '<div class="smsgo-bar-counts"><span>{}</span></div>',
            words,
            words,
        )
    label = _("%(delivered)s delivered, %(pending)s pending, %(failed)s failed") % {
        "delivered": counts.delivered,
        "pending": counts.pending,
        "failed": counts.failed,
    }
    # One f-string per piece rather than format_html: what goes in unescaped is
    # ours (CSS class names, integers, widths); every word is escaped.
    parts = "".join(
        f'<span class="{name}" style="width: {width:.1f}%" title="{count}"></span>'
        for name, count, width in counts.segments()
    )
    parts_shown = [
        ("delivered", counts.delivered, _("delivered")),
        ("", counts.pending, _("pending")),
    ]
    if counts.uncertain:
        parts_shown.append(("uncertain", counts.uncertain, _("uncertain")))
    parts_shown.append(("failed", counts.failed, _("failed")))
    if counts.cancelled:
        parts_shown.append(("cancelled", counts.cancelled, _("cancelled")))
    # One span per figure, so a narrow column wraps between figures, not inside one.
    figures = " · ".join(
        f'<span><b class="{css}">{count}</b> {escape(word)}</span>'
        for css, count, word in parts_shown
    )
    return mark_safe(  # noqa: S308 - built above from escaped words and our own values
        f'<div class="smsgo-bar" role="img" aria-label="{escape(label)}">{parts}</div>'
        f'<div class="smsgo-bar-counts">{figures}</div>'
    )


class ActionCheckboxMixin:
    """The change list's row checkbox, written out rather than rendered as a form widget.

    Django renders a ``CheckboxInput`` through the form renderer's template for
    each row, about 0.1 ms a row: a sixth of a 50-row page. The markup is
    Django's own (its 5.x label for screen readers included, on 4.2 too).
    """

    def action_checkbox(self, obj: Any) -> SafeString:
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    # Django 4.2 reads the column's header, the select-all toggle, from the method.
    if hasattr(admin.ModelAdmin.action_checkbox, "short_description"):
        action_checkbox.short_description = (  # type: ignore[attr-defined]
            admin.ModelAdmin.action_checkbox.short_description
        )

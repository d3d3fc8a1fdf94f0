"""Small pieces of HTML the console repeats on every row: the delivery bar."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
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
    parts = format_html_join(
        "",
        '<span class="{}" style="width: {}%" title="{}"></span>',
        ((name, f"{width:.1f}", count) for name, count, width in counts.segments()),
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
    figures = [
        format_html('<span><b class="{}">{}</b> {}</span>', css, count, word)
        for css, count, word in parts_shown
    ]
    return format_html(
        '<div class="smsgo-bar" role="img" aria-label="{}">{}</div>'
        '<div class="smsgo-bar-counts">{}</div>',
        label,
        parts,
        format_html_join(" · ", "{}", ((f,) for f in figures)),
    )

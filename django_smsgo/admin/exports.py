"""Export downloads: a streamed CSV or XLSX response of send-log rows.

The bytes are :mod:`django_smsgo.services.exports`'s; this module wraps them
in a :class:`~django.http.StreamingHttpResponse` that names the file, keeps it
out of caches, and writes the headings and words in the language of the
request that asked for it (the stream is written after the view returned).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from django_smsgo.models import Recipient
from django_smsgo.services import exports, send_log

CSV = "csv"
XLSX = "xlsx"
FORMATS = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def in_language(language: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks``, each produced with ``language`` active."""
    for_each = iter(chunks)
    while True:
        with translation.override(language):
            chunk = next(for_each, None)
        if chunk is None:
            return
        yield chunk


def download(
    rows: QuerySet[Recipient], kind: str, *, name: str, sheet: str
) -> StreamingHttpResponse:
    """``rows`` as a ``kind`` (``csv`` or ``xlsx``) attachment, streamed."""
    table = exports.log_table(send_log.export_rows(rows))
    stream = (
        exports.csv_stream(table) if kind == CSV else exports.xlsx_stream(table, sheet_name=sheet)
    )
    language = translation.get_language() or "en"
    response = StreamingHttpResponse(in_language(language, stream), content_type=FORMATS[kind])
    stamp = timezone.localtime(timezone.now(), send_log.TAIPEI).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{kind}"'
    # Numbers and texts of the site's customers: not for shared caches or the back button.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def unknown_format(request: HttpRequest, kind: str) -> HttpResponse:
    """400 for a format that is neither CSV nor XLSX, naming it and the choices."""
    return HttpResponseBadRequest(
        _("“%(format)s” is not an export format: choose csv or xlsx.") % {"format": kind[:20]},
        content_type="text/plain; charset=utf-8",
    )

"""Exports of the send log and of a message's recipients: CSV and XLSX, written as a stream.

:func:`log_table` turns :func:`~django_smsgo.services.send_log.export_rows`
into rows of cells in the reader's language (headings, status words, reasons,
Taiwan times); :func:`csv_stream` and :func:`xlsx_stream` turn rows of cells
into bytes, a chunk at a time, so a 100,000-row export holds a few thousand
rows in memory, never all of them.

The XLSX file is written here, without a library: one worksheet of inline
strings (no shared-strings table, which would have to be held until the end)
in a ZIP written to a stream (sizes in data descriptors, no seeking back).

A CSV cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with ``'``: a spreadsheet would otherwise run it as a
formula (CSV injection). XLSX cells are typed strings and never formulas.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from django_smsgo.models import Recipient
from django_smsgo.reasons import describe
from django_smsgo.services.send_log import ExportRow, taipei

Cell = str | int
#: Rows written between two chunks handed to the response.
ROWS_PER_CHUNK = 500
#: A cell a spreadsheet would read as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 does not allow (a text may hold them; a worksheet may not).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def headings() -> list[str]:
    """The export's column headings, in the active language."""
    return [
        _("Message"),
        _("Phone"),
        _("Text"),
        _("Status"),
        _("Gateway status"),
        _("Reason"),
        _("Sent (Taiwan)"),
        _("Final status at (Taiwan)"),
        _("Sender"),
        _("msgid"),
    ]


def log_table(rows: Iterable[ExportRow]) -> Iterator[list[Cell]]:
    """The headings, then one row of cells per recipient, in the active language."""
    yield list(headings())
    words = {value: str(label) for value, label in Recipient.Status.choices}
    withheld = _("(one-time code: text withheld)")
    for row in rows:
        yield [
            row.message_id,
            row.phone,
            withheld if row.withheld else row.text,
            words.get(row.status, row.status),
            row.gateway_status,
            describe(row.reason_code, row.reason_params),
            taipei(row.submitted_at),
            taipei(row.final_at),
            row.sender,
            row.msgid,
        ]


# -- CSV ---------------------------------------------------------------------


def safe_cell(value: Cell) -> Cell:
    """``value``, made inert for a spreadsheet when it would start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Buffer:
    """A file for :mod:`csv` that keeps what was written until it is taken."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_stream(table: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """``table`` as UTF-8 CSV (with a byte-order mark, so that Excel reads Chinese), in chunks."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    yield "\ufeff".encode()
    for number, row in enumerate(table, start=1):
        writer.writerow([safe_cell(cell) for cell in row])
        if number % ROWS_PER_CHUNK == 0:
            yield buffer.take().encode("utf-8")
    rest = buffer.take()
    if rest:
        yield rest.encode("utf-8")


# -- XLSX --------------------------------------------------------------------


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: :mod:`zipfile` writes to it, the stream takes from it."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    "</Relationships>"
)
# Two cell formats: the default, and bold for the headings (s="1").
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet_name[:31])}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def column_letter(index: int) -> str:
    """The spreadsheet column of a 0-based ``index``: A, B, … Z, AA, …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _row_xml(number: int, row: Sequence[Cell], style: str) -> str:
    cells = []
    for index, value in enumerate(row):
        ref = f"{column_letter(index)}{number}"
        if isinstance(value, int) and not isinstance(value, bool):
            cells.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
        else:
            text = escape(_NOT_XML.sub("", str(value)))
            cells.append(
                f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
            )
    return f'<row r="{number}">{"".join(cells)}</row>'


def xlsx_stream(table: Iterable[Sequence[Cell]], *, sheet_name: str) -> Iterator[bytes]:
    """``table`` as an XLSX workbook of one sheet (its first row bold), in chunks."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet_name))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        yield sink.take()
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData>"
            )
            for number, row in enumerate(table, start=1):
                style = ' s="1"' if number == 1 else ""
                sheet.write(_row_xml(number, row, style).encode("utf-8"))
                if number % ROWS_PER_CHUNK == 0:
                    chunk = sink.take()
                    if chunk:
                        yield chunk
            sheet.write(b"</sheetData></worksheet>")
    yield sink.take()

"""Turn what staff paste or upload into a list of candidate numbers.

This module only finds the numbers in the input; it does not decide whether
they are valid. The candidates are handed, as written, to the same validation
``send_sms()`` uses, so the admin can never accept a number the core refuses.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from django.utils.translation import gettext as _

#: More rows than a message may reasonably hold: refuse instead of reading on.
MAX_ROWS = 200_000

# Separators between numbers: new lines, commas, semicolons, tabs, and the
# full-width comma, ideographic comma and semicolon typed in Chinese input
# methods. Spaces are handled apart: "0912 345 678" is one number.
_SEPARATORS = re.compile(r"[\r\n,;\t，、；]+")
_HEADER_WORDS = ("phone", "mobile", "cell", "number", "tel", "手機", "電話", "號碼", "門號")
_DIGITS = re.compile(r"\d")


class RecipientFileError(ValueError):
    """An uploaded file could not be read as a list of numbers."""


def split_pasted(text: str) -> list[str]:
    """The numbers written in ``text``, in order, as written (not normalised).

    Numbers may be separated by new lines, commas, semicolons or tabs, or by
    spaces when spaces also group the digits of each number (``0912 345 678
    0922 333 444`` is two numbers).
    """
    found: list[str] = []
    for piece in _SEPARATORS.split(text):
        found.extend(_group_spaced_tokens(piece.split()))
    return [restore_leading_zero(number) for number in found]


#: A Taiwanese mobile with the leading 0 dropped, as Excel saves 0912345678 (in a
#: CSV too, or copied from a sheet): nine digits from 9, in any grouping.
_DROPPED_ZERO = re.compile(r"9\d{8}")


def restore_leading_zero(value: str) -> str:
    """``912345678`` (or ``912-345-678``) back to ``0912345678``; anything else as it is."""
    compact = re.sub(r"[\s\-.()]", "", value)
    if _DROPPED_ZERO.fullmatch(compact):
        return "0" + compact
    return value


def _digit_count(value: str) -> int:
    return len(_DIGITS.findall(value))


def _complete_length(number: str) -> int:
    """How many digits make ``number`` complete, by how it begins."""
    if number.startswith("+"):
        return 15
    if "".join(_DIGITS.findall(number)).startswith("886"):
        return 12
    return 10


def _group_spaced_tokens(tokens: Sequence[str]) -> Iterator[str]:
    """Join space-separated digit groups back into numbers.

    A number goes on until it is complete (ten digits for ``09…``, twelve for
    ``886…``, fifteen — the most E.164 allows — after ``+``) or until a token
    begins like a new number: ``+`` or ``(``, or ``09`` after an international
    number that already has eleven digits. Groups may start with ``0``
    (``0912 045 678``), and ``+886 0912 345 678`` stays one number.
    """
    current = ""
    for token in tokens:
        if not current:
            current = token
            continue
        digits = _digit_count(current)
        starts_number = token[0] in "+(" or (
            current.startswith("+") and token.startswith("09") and digits >= 11
        )
        if starts_number or digits >= _complete_length(current):
            yield current
            current = token
        else:
            current += token
    if current:
        yield current


def read_numbers_file(upload: IO[bytes], name: str, column: str = "") -> list[str]:
    """The numbers in one column of an uploaded CSV or XLSX file.

    ``column`` is a header name, a column letter (``B``) or a 1-based column
    number; empty means the first column whose header looks like a phone
    column, else the first column holding numbers. A header row is skipped.
    Raises :class:`RecipientFileError` with a message for staff.
    """
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        rows = _xlsx_rows(upload)
    elif lowered.endswith((".csv", ".txt")):
        rows = _csv_rows(upload)
    else:
        raise RecipientFileError(
            _("“%(name)s” is neither a CSV nor an XLSX file.") % {"name": name}
        )
    table = _bounded(rows)
    if not table:
        raise RecipientFileError(_("“%(name)s” is empty.") % {"name": name})
    index, has_header = _pick_column(table, column)
    body = table[1:] if has_header else table
    return [
        restore_leading_zero(row[index].strip())
        for row in body
        if index < len(row) and row[index].strip()
    ]


def _bounded(rows: Iterable[list[str]]) -> list[list[str]]:
    table: list[list[str]] = []
    for row in rows:
        if len(table) >= MAX_ROWS:
            raise RecipientFileError(
                _("The file has more than %(limit)s rows.") % {"limit": f"{MAX_ROWS:,}"}
            )
        if any(cell.strip() for cell in row):
            table.append(row)
    return table


def _csv_rows(upload: IO[bytes]) -> Iterator[list[str]]:
    raw = upload.read()
    # Excel on a Traditional Chinese Windows saves CSV in Big5 (cp950).
    for codec in ("utf-8-sig", "cp950"):
        try:
            text = raw.decode(codec)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RecipientFileError(_("The CSV file is neither UTF-8 nor Big5 text."))
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _xlsx_rows(upload: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise RecipientFileError(_("The XLSX file could not be read.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as text, with the leading 0 Excel drops from mobile numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        # 0912345678 typed into Excel becomes the number 912345678.
        return restore_leading_zero(text)
    return restore_leading_zero(str(value).strip())


def _looks_like_header(cell: str) -> bool:
    return _digit_count(cell) < 3


def _pick_column(table: list[list[str]], column: str) -> tuple[int, bool]:
    first = table[0]
    has_header = all(_looks_like_header(cell) for cell in first)
    wanted = column.strip()
    if wanted:
        return _named_column(first, wanted, has_header), has_header
    if has_header:
        for index, cell in enumerate(first):
            if any(word in cell.lower() for word in _HEADER_WORDS):
                return index, True
    sample = table[1:51] if has_header else table[:50]
    width = max(len(row) for row in table)
    for index in range(width):
        cells = [row[index] for row in sample if index < len(row)]
        if cells and sum(_digit_count(c) >= 8 for c in cells) * 2 >= len(cells):
            return index, has_header
    return 0, has_header


def _named_column(header: list[str], wanted: str, has_header: bool) -> int:
    if has_header:
        for index, cell in enumerate(header):
            if cell.strip().lower() == wanted.lower():
                return index
    if wanted.isdigit() and int(wanted) >= 1:
        return int(wanted) - 1
    if re.fullmatch(r"[A-Za-z]{1,2}", wanted):
        index = 0
        for char in wanted.upper():
            index = index * 26 + (ord(char) - ord("A") + 1)
        return index - 1
    raise RecipientFileError(
        _("No column “%(column)s” in the file; give its header, its letter or its number.")
        % {"column": wanted}
    )


def read_rows_file(
    upload: IO[bytes], name: str, column: str = ""
) -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    """The headers of an uploaded file and each row's number with its values by header.

    The number column is chosen as :func:`read_numbers_file` chooses it. The
    values are what personalised texts fill their placeholders with; a file
    without a header row has no named values (its headers are empty).
    """
    lowered = name.lower()
    rows = _xlsx_rows(upload) if lowered.endswith(".xlsx") else _csv_rows(upload)
    table = _bounded(rows)
    if not table:
        return [], []
    index, has_header = _pick_column(table, column)
    headers = [cell.strip() for cell in table[0]] if has_header else []
    found = []
    for row in table[1:] if has_header else table:
        if index < len(row) and row[index].strip():
            values = {h: row[i] if i < len(row) else "" for i, h in enumerate(headers) if h}
            found.append((row[index], values))
    return headers, found

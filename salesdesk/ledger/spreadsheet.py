"""Reading an uploaded spreadsheet (CSV or XLSX) into rows of text, within limits that
are checked before anything parses the file: a small workbook may unpack to millions of
cells, and a file must never hold a worker or fill the memory."""

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from .. import disk
from ..config import MEGABYTE
from ..errors import DomainError

# Excel's own limit; a row number beyond it is forged.
EXCEL_MAX_ROWS = 1_048_576
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportError_(DomainError):
    """The file cannot be imported: unreadable (encoding, format, empty), over a
    limit, or not stored."""

    status = 422


class TooLarge(ImportError_):
    """More rows, columns or cells than an import takes, or a workbook that unpacks
    to more than we read."""

    status = 413


@dataclass(frozen=True)
class Limits:
    """What an import may hold (config IMPORT_MAX_*)."""

    rows: int
    columns: int
    cells: int
    unpacked_bytes: int
    compression_ratio: int

    @classmethod
    def configured(cls):
        config = current_app.config
        return cls(
            rows=config["IMPORT_MAX_ROWS"],
            columns=config["IMPORT_MAX_COLUMNS"],
            cells=config["IMPORT_MAX_CELLS"],
            unpacked_bytes=config["IMPORT_MAX_UNPACKED_MB"] * MEGABYTE,
            compression_ratio=config["IMPORT_MAX_COMPRESSION_RATIO"],
        )


def _decode(data):
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportError_(
        _("The file's text encoding is not UTF-8 or GBK. Save it again as UTF-8 CSV or .xlsx.")
    )


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers typed into Excel become floats
    return str(value).strip()


def check_file(path, limits):
    """The checks that cost milliseconds, made before anything parses the file: an
    old .xls, and for a workbook its packing and number of cells (a 500 KB workbook
    may unpack to 15 million cells, which would take openpyxl many minutes)."""
    with open(path, "rb") as file:
        magic = file.read(8)
    if magic == XLS_MAGIC:
        raise ImportError_(_("This is an old Excel file (.xls). Save it as .xlsx or CSV and upload again."))
    if magic.startswith(XLSX_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                _check_workbook(archive, limits)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as error:
            raise ImportError_(
                _("The Excel file is damaged or not an .xlsx file (%(error)s).", error=type(error).__name__)
            ) from None


def _check_workbook(archive, limits):
    members = archive.infolist()
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.unpacked_bytes:
        raise TooLarge(
            _(
                "The Excel file unpacks to %(size)s MB, more than the %(limit)s MB an import reads. "
                "Split it into smaller files.",
                size=f"{unpacked // MEGABYTE:,}",
                limit=f"{limits.unpacked_bytes // MEGABYTE:,}",
            )
        )
    for member in members:
        # Small parts (styles, a blank sheet) may pack tightly without costing anything.
        if member.file_size > MEGABYTE and member.file_size > limits.compression_ratio * member.compress_size:
            raise TooLarge(
                _(
                    "The Excel file is packed %(ratio)s to 1, far tighter than real lists (about "
                    "10 to 1), as files made to overload a server are. Save it again from Excel, or as CSV.",
                    ratio=f"{member.file_size // max(member.compress_size, 1):,}",
                )
            )
    sheets = [m for m in members if "worksheets/" in m.filename and m.filename.endswith(".xml")]
    if any(_count_cells(archive, sheet, limits.cells) > limits.cells for sheet in sheets):
        raise _too_many_cells(limits)


def _count_cells(archive, member, limit):
    """How many cell elements a worksheet holds (an upper bound; counting stops past
    `limit`), at the speed of unpacking: ~1 s for 200 MB of XML."""
    cells = 0
    with archive.open(member) as sheet:
        while cells <= limit and (chunk := sheet.read(disk.CHUNK)):
            # <c …>, <c>, <c/> and with a namespace prefix (<x:c …>); <col> and the
            # like are counted too, and a tag cut by the chunk border is missed.
            cells += chunk.count(b"<c") + chunk.count(b":c ") + chunk.count(b":c>") + chunk.count(b":c/")
    return cells


def _too_many_cells(limits):
    return TooLarge(
        _(
            "The file has more than %(n)s cells (rows × columns); split it into smaller files.",
            n=f"{limits.cells:,}",
        )
    )


def read_rows(path, limits):
    """The file's non-empty rows as lists of strings (first row: headers)."""
    data = Path(path).read_bytes()
    if not data.removeprefix(codecs.BOM_UTF8).strip():
        raise ImportError_(_("The file is empty."))
    if data.startswith(XLSX_MAGIC):
        rows = _collect(_read_xlsx(data, limits), limits)
    elif data.startswith(XLS_MAGIC):
        raise ImportError_(_("This is an old Excel file (.xls). Save it as .xlsx or CSV and upload again."))
    else:
        rows = _collect(_read_csv(data), limits)
    if len(rows) < 2:
        raise ImportError_(_("The file has no data rows under its header row."))
    return rows


def _collect(raw_rows, limits):
    """The non-empty rows, refused as soon as they pass a limit."""
    rows, cells = [], 0
    for raw in raw_rows:
        row = [_cell(value) for value in raw]
        if not any(row):
            continue
        if len(row) > limits.columns:
            raise TooLarge(
                _(
                    "The file has more than %(n)s columns; remove those you do not need and upload it again.",
                    n=f"{limits.columns:,}",
                )
            )
        cells += len(row)
        if cells > limits.cells:
            raise _too_many_cells(limits)
        if len(rows) > limits.rows:
            raise TooLarge(
                _("The file has more than %(n)s rows; split it into smaller files.", n=f"{limits.rows:,}")
            )
        rows.append(row)
    return rows


def _read_csv(data):
    text = _decode(data)
    if "\x00" in text:
        raise ImportError_(_("This does not look like a CSV or Excel file."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as error:
        raise ImportError_(_("The CSV file is malformed (%(error)s).", error=str(error))) from None


def _read_xlsx(data, limits):
    """The first sheet's rows, each at most one column wider than the limit (so that a
    row reaching past it is refused), without trailing empty cells."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as error:
        raise ImportError_(
            _("The Excel file is damaged or not an .xlsx file (%(error)s).", error=type(error).__name__)
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # The declared size may lie (A1:XFD1048576 would be 17 billion cells): read
        # what is there, no further than these bounds.
        sheet.reset_dimensions()
        for values in sheet.iter_rows(max_row=EXCEL_MAX_ROWS, max_col=limits.columns + 1, values_only=True):
            if values.count(None) == len(values):
                continue  # a gap between rows costs nothing
            end = len(values)
            while values[end - 1] is None:
                end -= 1
            yield values[:end]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as error:
        raise ImportError_(_("The Excel file is damaged (%(error)s).", error=type(error).__name__)) from None
    finally:
        workbook.close()

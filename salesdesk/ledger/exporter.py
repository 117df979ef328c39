"""Export the filtered list to CSV (UTF-8 with BOM, for Excel) or XLSX, a chunk of rows
at a time, masked exactly as the list is for the user who exports."""

import csv
import io
import itertools
import tempfile
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit
from ..database import write_transaction
from ..errors import Forbidden
from ..extensions import db
from . import access, queries

audit.register_actions({"customer.exported": _l("Customers exported")})

CHUNK = 1000
# A cell starting with one of these is a formula to Excel: CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unneutralise(text):
    """A cell as it was before neutralise: an exported or fix-me file imported again
    gives back -3万, not '-3万."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _headers():
    return [
        _("Customer name"),
        _("Type"),
        _("Unified social credit code"),
        _("Industry"),
        _("Province"),
        _("City"),
        _("Source"),
        _("Grade"),
        _("Stage"),
        _("Expected amount (CNY)"),
        _("Owner"),
        _("Tags"),
        _("Next follow-up"),
        _("Last follow-up"),
        _("Contacts"),
        _("Phone"),
        _("E-mail"),
        _("WeChat ID"),
        _("Notes"),
        _("Created"),
    ]


def _row(customer, visible):
    contacts = access.contact_views(customer, visible)
    return [
        customer.name,
        {"company": _("Company"), "person": _("Person")}[customer.kind],
        customer.credit_code or "",
        customer.industry,
        customer.province,
        customer.city,
        str(customer.source_label),
        customer.grade,
        str(customer.stage_label),
        customer.expected_amount,
        customer.owner.display_name if customer.owner else _("Public pool"),
        ", ".join(customer.tag_names),
        customer.next_follow_up_on.isoformat() if customer.next_follow_up_on else "",
        customer.last_follow_up_at.date().isoformat() if customer.last_follow_up_at else "",
        "; ".join(f"{c.name} {c.title}".strip() for c in contacts),
        "; ".join(phone for c in contacts for phone in c.phones),
        "; ".join(c.email for c in contacts if c.email),
        "; ".join(c.wechat for c in contacts if c.wechat),
        customer.notes if visible else "",
        customer.created_at.date().isoformat(),
    ]


def matching_ids(user, filters):
    """The ids to export, in the list's order; Forbidden when the admin's setting does not
    let `user` export."""
    scope = access.export_scope(user)
    if scope is None:
        raise Forbidden(_("Your administrator has not allowed you to export customers."))
    if scope == "own":
        filters = replace(filters, view="mine")  # their own customers, under the same filters
    return queries.matching_ids(user, filters)


def rows(user, ids):
    """Masked, neutralised rows, loading CHUNK customers at a time."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        customers, visible = queries.load_for_display(user, chunk, for_export=True)
        for customer in customers:
            yield [
                v if isinstance(v, Decimal) else neutralise(v) for v in _row(customer, customer.id in visible)
            ]
        db.session.expunge_all()  # keep memory flat across 100,000 rows


def record_export(user, filters, count, fmt):
    with write_transaction():
        audit.record(
            "customer.exported",
            actor=user,
            rows=count,
            format=fmt,
            filters=filters.args(page=None, per_page=None),
        )


def csv_chunks(user, ids):
    """The CSV, a chunk at a time. It runs after the view has returned, so it keeps
    only plain facts about the user and their language (no ORM object, no lookup of
    the logged-in user)."""
    viewer = SimpleNamespace(id=user.id, role=user.role, team_id=user.team_id)
    locale = str(get_locale())

    def generate():
        with force_locale(locale):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")
            writer.writerow(_headers())
            for number, row in enumerate(rows(viewer, ids), start=1):
                writer.writerow([str(value) for value in row])
                if number % CHUNK == 0:
                    yield buffer.getvalue().encode("utf-8")
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode("utf-8")

    return generate()


def xlsx_file(user, ids):
    """A temporary .xlsx file of the customers; the caller streams it."""
    return write_xlsx(_("Customers"), _headers(), rows(user, ids))


def write_xlsx(title, headers, rows, widths=()):
    """A temporary .xlsx file of one sheet (write-only mode keeps memory flat): every
    cell text, never a formula, except Decimal amounts. widths: of the first columns,
    in characters. The caller streams and closes it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    for row in itertools.chain([headers], rows):  # an uploaded file's headers too
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value if isinstance(value, Decimal) else neutralise(value))
            if not isinstance(value, Decimal):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    workbook.save(target)
    target.seek(0)
    return target

"""Export the filtered list to CSV (UTF-8 with BOM, for Excel) or XLSX, a chunk of rows
at a time, masked exactly as the list is for the user who exports. Custom fields follow
the built-in columns, headed by their labels, so that an export imports again."""

import csv
import io
import itertools
import tempfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit
from ..database import write_transaction
from ..errors import Forbidden
from ..extensions import db
from ..fields import types as field_types
from ..fields import values as custom_values
from ..fields.definitions import all_fields, holds_values
from ..fields.models import FieldType
from . import access, queries

audit.register_actions({"customer.exported": _l("Customers exported")})

CHUNK = 1000
# A cell starting with one of these is a formula to Excel: CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Cells an XLSX keeps as numbers and dates, never text (a CSV writes them as str() does:
# 12000.00, 2026-12-06, which import again in either language).
NUMBERS = (Decimal, int, float)
DATE_FORMAT = "yyyy-mm-dd"


def neutralise(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unneutralise(text):
    """A cell as it was before neutralise: an exported or fix-me file imported again
    gives back -3万, not '-3万."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def export_fields():
    """The custom fields an export has a column for, the customers' then the contacts':
    the active ones in their order, and the retired ones that still hold values (those
    stay in exports)."""
    return [
        f
        for entity in ("customer", "contact")
        for f in all_fields(entity)
        if f.active or holds_values(f, with_trash=False)
    ]


def custom_header(field):
    """A custom field's column: its label, 联系人… for a contact's (the import reads it
    back by this name), and whether it is retired."""
    label = field.label if field.entity == "customer" else _("Contact %(field)s", field=field.label)
    return label if field.active else _("%(field)s (retired)", field=label)


def _headers(fields=()):
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
        *(custom_header(f) for f in fields),
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


def rows(user, ids, fields=()):
    """Masked, neutralised rows, loading CHUNK customers at a time; fields: the custom
    fields (export_fields), their user names read once a chunk."""
    user_fields = [f for f in fields if f.type == FieldType.USER]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        customers, visible = queries.load_for_display(user, chunk, for_export=True)
        names = _user_names(user_fields, customers) if user_fields else {}
        for customer in customers:
            shown = customer.id in visible
            yield [v if isinstance(v, Decimal) else neutralise(v) for v in _row(customer, shown)] + [
                _custom_cell(f, _values_of(f, customer), shown, names) for f in fields
            ]
        db.session.expunge_all()  # keep memory flat across 100,000 rows


def _user_names(fields, customers):
    records = [c.custom for c in customers] + [contact.custom for c in customers for contact in c.contacts]
    return custom_values.user_names(fields, records)


def _values_of(field, customer):
    """The field's values in a customer's row: the customer's, or each of its contacts'
    that has one (joined in one cell, as the contacts' phones are)."""
    records = [customer.custom] if field.entity == "customer" else [c.custom for c in customer.contacts]
    return [values[field.key] for values in records if values and values.get(field.key) is not None]


def _custom_cell(field, values, visible, names):
    """A custom field's values as a cell: masked like the contacts when sensitive and the
    details are not visible; one number, amount or date as such, text neutralised."""
    if not values:
        return ""
    if custom_values.is_masked(field, visible):
        return custom_values.MASK
    cells = [field_types.export_value(field, value, names) for value in values]
    if len(cells) == 1 and isinstance(cells[0], (*NUMBERS, date)) and not isinstance(cells[0], bool):
        return cells[0]
    return neutralise("; ".join(_text(cell) for cell in cells))


def _text(cell):
    return cell.isoformat() if isinstance(cell, date) else str(cell)


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
            fields = export_fields()  # once: their labels head the columns
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")
            writer.writerow(_headers(fields))
            for number, row in enumerate(rows(viewer, ids, fields), start=1):
                writer.writerow([str(value) for value in row])
                if number % CHUNK == 0:
                    yield buffer.getvalue().encode("utf-8")
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode("utf-8")

    return generate()


def xlsx_file(user, ids):
    """A temporary .xlsx file of the customers; the caller streams it."""
    fields = export_fields()
    return write_xlsx(_("Customers"), _headers(fields), rows(user, ids, fields))


def write_xlsx(title, headers, rows, widths=()):
    """A temporary .xlsx file of one sheet (write-only mode keeps memory flat): every
    cell text, never a formula, except numbers (Decimal amounts, a custom field's
    numbers) and dates. widths: of the first columns, in characters. The caller streams
    and closes it."""
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
            if isinstance(value, NUMBERS) and not isinstance(value, bool):
                cell = WriteOnlyCell(sheet, value=value)
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = DATE_FORMAT
            else:
                cell = WriteOnlyCell(sheet, value=neutralise(value))
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    workbook.save(target)
    target.seek(0)
    return target

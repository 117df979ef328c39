"""The performance board as an XLSX workbook: the people's figures (with the previous
period's beside the main ones), their targets, the support users' figures and the
funnel, one sheet each. Numbers stay numbers with a format (money to the fen,
percentages as percentages); text is neutralised as the customer export does it."""

import tempfile
from decimal import Decimal

from flask_babel import gettext as _

from ..ledger.exporter import neutralise
from . import board
from .models import Measure

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {
    board.MONEY: "#,##0.00",
    board.COUNT: "0",
    board.PERCENT: "0.0%",
    board.DAYS: "0.0",
    board.RATING: "0.00",
}


def file_name(result):
    scope = (
        "company"
        if result.filters.company
        else f"team-{result.filters.team.id}"
        if result.filters.team
        else "team"
    )
    return f"performance-{scope}-{result.period.key}.xlsx"


def _number(value, kind):
    """(value, format) of a figure; percentages as fractions, as spreadsheets keep them."""
    if value is None:
        return None, None
    if kind == board.PERCENT:
        return Decimal(value) / 100, FORMATS[kind]
    if kind in (board.DAYS, board.RATING):
        return float(value), FORMATS[kind]
    return value, FORMATS[kind]


class _Sheet:
    def __init__(self, workbook, title, widths=()):
        from openpyxl.utils import get_column_letter

        self.sheet = workbook.create_sheet(title)
        for number, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(number)].width = width
        self.row = 0

    def append(self, values):
        """values: text, or (number, kind) for a figure."""
        self.row += 1
        for number, value in enumerate(values, start=1):
            cell = self.sheet.cell(row=self.row, column=number)
            if isinstance(value, tuple):
                cell.value, number_format = _number(*value)
                if number_format is not None:
                    cell.number_format = number_format
            else:
                cell.value = neutralise(value)
                cell.data_type = "s"  # text, never a formula, whatever it starts with


def _people_sheet(workbook, title, columns, rows, total, compare):
    headers = [_("Name"), _("Team")]
    for column in columns:
        headers.append(str(column.label))
        if compare and column.main:
            headers.append(_("%(figure)s, previous period", figure=column.label))
    sheet = _Sheet(workbook, title, widths=[16, 14])
    sheet.append(headers)
    for row in [*rows, total]:
        if row.user is None:
            values = [_("Total"), ""]
        else:
            values = [row.user.display_name, row.user.team.name if row.user.team else ""]
        for column in columns:
            cell = row.cell(column)
            values.append((cell.value, column.kind))
            if compare and column.main:
                values.append((cell.previous, column.kind))
        sheet.append(values)


def _targets_sheet(workbook, result):
    headers = [_("Name")]
    for measure in Measure:
        headers += [
            _("%(measure)s: target", measure=measure.label),
            _("%(measure)s: progress", measure=measure.label),
            _("%(measure)s: progress %%", measure=measure.label),
            _("%(measure)s: pace", measure=measure.label),
        ]
    sheet = _Sheet(workbook, _("Targets"), widths=[16])
    sheet.append(headers)
    standings = [(row.user.display_name, row.standing) for row in result.rows]
    if result.standing is not None:
        standings.append((_("Total"), result.standing))
    for name, standing in standings:
        values = [name]
        for measure in Measure:
            kind = board.MONEY if measure.is_money else board.COUNT
            paced = standing.paces[measure]
            values += [
                (standing.targets[measure], kind),
                (standing.figures[measure], kind),
                (paced.percent, board.PERCENT),
                str(paced.status_label),
            ]
        sheet.append(values)


def _funnel_sheet(workbook, funnel):
    sheet = _Sheet(workbook, _("Funnel"), widths=[14])
    sheet.append(
        [
            _("Stage"),
            _("Customers reached"),
            _("Conversion from the stage before"),
            _("Median days in the stage"),
            _("Left the stage"),
        ]
    )
    for step in funnel.steps:
        sheet.append(
            [
                str(step.stage.label),
                (step.reached, board.COUNT),
                (step.conversion, board.PERCENT),
                (step.median_days, board.DAYS),
                (step.left, board.COUNT),
            ]
        )


def workbook(result):
    """A temporary .xlsx file of the board; the caller streams and closes it."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    compare = result.filters.compare
    _people_sheet(book, _("Performance"), board.COLUMNS, result.rows, result.total, compare)
    _targets_sheet(book, result)
    if result.support_rows:
        _people_sheet(
            book, _("Support"), board.SUPPORT_COLUMNS, result.support_rows, result.support_total, compare
        )
    if result.funnel is not None:
        _funnel_sheet(book, result.funnel)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    book.save(target)
    target.seek(0)
    return target

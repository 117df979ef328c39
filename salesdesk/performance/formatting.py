"""A board figure as text: money, counts, percentages, days and ratings, and the change
from the previous period in signs and words (never colour alone). Written in Python, not
as template macros: the company board draws some 5,000 of them, and a macro call per
figure cost more than the page's queries."""

from flask_babel import gettext as _
from markupsafe import Markup

from ..i18n import compact_money, money


def none_mark():
    return Markup('<span aria-label="%s">–</span>') % _("none")


def figure(kind, value, compact=False):
    """compact: money as ¥73.4万 where space is short (the summary cards)."""
    if value is None:
        return none_mark()
    if kind == "money":
        return compact_money(value) if compact and value else money(value)
    if kind == "percent":
        return f"{value:.0f} %"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "rating":
        return f"{value:.2f}"
    return f"{value:,}"


def change(kind, value, compact=False):
    """ "+¥1,200.00", "−3", "+5 pp": the sign says which way; zero says "no change"."""
    if value is None:
        return none_mark()
    if value == 0:
        return "±0"
    sign = "+" if value > 0 else "−"
    size = abs(value)
    if kind == "percent":
        return sign + _("%(num)s pp", num=f"{size:.0f}")
    return sign + figure(kind, size, compact)


def compared(cell, compare):
    """A board cell: its figure and, for the main columns when comparing, the previous
    period's figure and the change below it."""
    kind = cell.column.kind
    text = Markup("%s") % figure(kind, cell.value)
    if compare and cell.column.main:
        text += Markup('\n<small class="compare">%s %s · %s</small>') % (
            _("prev."),
            figure(kind, cell.previous),
            change(kind, cell.change),
        )
    return text

"""Labels on the workbench's charts."""

from babel.numbers import format_compact_decimal
from flask_babel import get_locale

from . import bp


@bp.app_template_filter("chart_amount")
def chart_amount(amount):
    """An amount short enough for a bar: 128万 (1.3M in English), "—" for none.
    The app-wide `money_short` filter (salesdesk/i18n.py) is meant to replace it."""
    if amount is None:
        return "—"
    return format_compact_decimal(amount, locale=get_locale(), fraction_digits=1)

"""A board figure as text: money, counts, percentages, days and ratings, the change from
the previous period in signs and words (never colour alone), and progress against a
target with its pace. Written in Python, not as template macros: the company board
draws some 6,000 of them, and macro calls cost more than the page's queries. The few
fixed words are translated once a request, not once a figure."""

from flask import g
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..i18n import compact_money, money_format

NONE = _l("none")
PREVIOUS = _l("prev.")
NO_TARGET = _l("no target")
PERCENT_POINTS = _l("%(num)s pp")
NONE_MARK = "none mark"  # the words' key of the marked dash
MONEY_FORMAT = "money format"  # and of the language's amount format (i18n.money)
PACE_TONES = {
    "ahead": "badge-ok",
    "reached": "badge-ok",
    "on_track": "badge-muted",
    "behind": "badge-warn",
    "missed": "badge-danger",
}


def _words():
    """The fixed words in the request's language, each translated once a request. A row
    of the board asks for them once: looking the language up is dearer than a figure."""
    return g.setdefault("formatting_words", {}).setdefault(str(get_locale()), {})


def _word(lazy, words=None):
    words = _words() if words is None else words
    text = words.get(id(lazy))
    if text is None:
        text = words[id(lazy)] = escape(str(lazy))
    return text


def none_mark(words=None):
    words = _words() if words is None else words
    mark = words.get(NONE_MARK)
    if mark is None:
        mark = words[NONE_MARK] = Markup('<span aria-label="{}">–</span>').format(str(NONE))
    return mark


def _money(words):
    format_amount = words.get(MONEY_FORMAT)
    if format_amount is None:
        format_amount = words[MONEY_FORMAT] = money_format()
    return format_amount


def figure(kind, value, compact=False, words=None):
    """compact: money as ¥73.4万 where space is short (the summary cards)."""
    words = _words() if words is None else words
    if value is None:
        return none_mark(words)
    if kind == "money":
        return compact_money(value) if compact and value else _money(words)(value)
    if kind == "percent":
        return f"{value:.0f} %"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "rating":
        return f"{value:.2f}"
    return f"{value:,}"


def change(kind, value, compact=False, words=None):
    """ "+¥1,200.00", "−3", "+5 pp": the sign says which way; zero says "no change"."""
    if value is None:
        return none_mark(words)
    if value == 0:
        return "±0"
    sign = "+" if value > 0 else "−"
    size = abs(value)
    if kind == "percent":
        return sign + _word(PERCENT_POINTS, words) % {"num": f"{size:.0f}"}
    return sign + figure(kind, size, compact, words)


def compared(cell, compare, words=None):
    """A board cell: its figure and, for the main columns when comparing, the previous
    period's figure and the change below it."""
    return Markup(_compared(cell, compare, _words() if words is None else words))


def _compared(cell, compare, words):
    # Figures are digits, signs and the language's currency symbol, and the marked dash
    # is Markup already: nothing here needs escaping but the words.
    kind = cell.column.kind
    text = figure(kind, cell.value, words=words)
    if not (compare and cell.column.main):
        return text
    before, moved = figure(kind, cell.previous, words=words), change(kind, cell.change, words=words)
    return f'{text}\n<small class="compare">{_word(PREVIOUS, words)} {before} · {moved}</small>'


def figure_cells(row, columns, compare):
    """A board row's cells, a <td> a column, joined here rather than in a template loop:
    the company board has ~5,000 of them, and the loop was a quarter of its rendering."""
    words = _words()
    return Markup(
        "".join(
            f'<td class="num col-{column.key}">{_compared(row.cell(column), compare, words)}</td>'
            for column in columns
        )
    )


def pace_badge(paced, words=None):
    """The pace status in words (领先 / 正常 / 落后 …), coloured as well."""
    if not paced.status:
        return ""
    return Markup(
        f'<span class="badge {PACE_TONES[paced.status]} pace-status pace-{paced.status}">'
        f"{_word(paced.status_label, words)}</span>"
    )


def progress(measure, standing, words=None):
    """One measure against its target: "¥12,000.00 / ¥50,000.00 · 24 % · 落后"."""
    words = _words() if words is None else words
    kind = "money" if measure.is_money else "count"
    done = figure(kind, standing.figures[measure], words=words)  # safe: see _compared
    target = standing.targets[measure]
    if target is None:
        return Markup(f'{done} <small class="muted">{_word(NO_TARGET, words)}</small>')
    paced = standing.paces[measure]
    meter = ""
    percent = paced.percent
    if percent is not None:
        meter = f'<meter min="0" max="100" value="{min(percent, 100)}" aria-hidden="true"></meter>'
        meter += f" {percent} %"
    return Markup(
        f'{done} / {figure(kind, target, words=words)}\n<span class="progress-line">{meter}\n  '
        f"{pace_badge(paced, words)}</span>"
    )


def progress_cells(standing):
    """A row of the targets table: a <td> per measure, in Python for the reason
    figure_cells gives (the company's table has 1,000 of them)."""
    words = _words()
    return Markup("".join(f"<td>{progress(measure, standing, words)}</td>" for measure in standing.paces))

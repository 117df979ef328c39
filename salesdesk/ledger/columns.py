"""The customer list's columns (列设置): which there are, which each user shows, and the
rows a page draws. Cells are plain values made here and written out here as well, so the
template draws a row with one expression: with a macro per cell, a page of 25 rows made
500 template calls and cost three times the SQL it ran, and a template loop over the
cells still took a third of the page's rendering (bench/ledger_floor.py)."""

from dataclasses import dataclass, replace
from datetime import date

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape

from ..assets import icon
from ..auth.models import User
from ..database import write_transaction
from ..errors import DomainError
from ..fields import types as field_types
from ..fields import values as field_values
from ..fields.models import FieldType
from ..i18n import compact_money, format_date, local_date
from . import queries
from .models import SOURCE_LABELS, STAGE_LABELS


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # its sort in URLs (queries.SORTS, or cf_<key>), when it sorts
    shown_by_default: bool = True
    numeric: bool = False
    field: object = None  # a custom field's column: the CustomField


# The name comes first and always shows; these follow in this order. The defaults fit
# 1,366 px without scrolling sideways.
COLUMNS = (
    Column("stage", _l("Stage"), "stage"),
    Column("owner", _l("Owner")),
    Column("contact", _l("Contact")),
    Column("amount", _l("Expected amount"), "amount", numeric=True),
    Column("last_follow_up", _l("Last follow-up"), "last_follow_up"),
    Column("next_follow_up", _l("Next follow-up"), "next_follow_up"),
    Column("reclaim", _l("Returns to pool"), "reclaim"),
    Column("grade", _l("Grade"), "grade", shown_by_default=False),
    Column("region", _l("Region"), "region", shown_by_default=False),
    Column("source", _l("Source"), shown_by_default=False),
    Column("tags", _l("Tags"), shown_by_default=False),
    Column("created", _l("Created"), "created", shown_by_default=False),
    Column("updated", _l("Last updated"), "updated", shown_by_default=False),
)
BY_KEY = {column.key: column for column in COLUMNS}
# A phone shows each customer as a card of three lines: name / stage · owner / next
# follow-up. Their cells are drawn even when the table leaves them out.
CARD_KEYS = ("stage", "owner", "next_follow_up")


# The saved choice must fit its column (users.list_columns).
MAX_CHOICE_LENGTH = User.__table__.c.list_columns.type.length


def custom_column(custom_field):
    """A custom field's column (cf_<key>): never shown until chosen; sorts by its index."""
    return Column(
        f"{queries.CUSTOM_PREFIX}{custom_field.key}",
        custom_field.label,
        queries.custom_sort_key(custom_field),
        shown_by_default=False,
        numeric=custom_field.type in (FieldType.NUMBER, FieldType.MONEY),
        field=custom_field,
    )


def all_columns(fields):
    """The built-in columns, then a column for each of `fields` (queries.listed_fields)."""
    return [*COLUMNS, *(custom_column(f) for f in fields)]


def chosen(user, fields=()):
    """The columns `user` shows, in the list's order. A saved key that is no column (a
    retired field's, a removed one's) shows nothing; a restored field's shows again."""
    if not user.list_columns:
        return [column for column in COLUMNS if column.shown_by_default]
    keys = set(user.list_columns.split(","))
    return [column for column in all_columns(fields) if column.key in keys]


def shows_tags(shown):
    """Whether the columns `shown` draw the customers' tags (their rows must have them)."""
    return any(column.key == "tags" for column in shown)


def labelled(picked):
    """The columns with their labels translated once: each row's cells repeat them."""
    return [replace(column, label=str(column.label)) for column in picked]


def choose(user, keys, fields=None):
    """Remember the columns `user` shows; only the name is a choice too. fields: the
    listed custom fields (default: as they are now)."""
    if not keys:
        # The form always sends "name" (the column that always shows): nothing at all is
        # not this form.
        raise DomainError(_("Choose the columns to show."))
    offered = all_columns(queries.listed_fields() if fields is None else fields)
    wanted = set(keys) - {"name"}
    if not wanted <= {column.key for column in offered}:
        raise DomainError(_("That column does not exist. Reload the list and choose again."))
    kept = ",".join(column.key for column in offered if column.key in wanted) or "-"
    if len(kept) > MAX_CHOICE_LENGTH:
        raise DomainError(_("That is too many columns to keep: choose fewer."))
    with write_transaction():
        user.list_columns = kept


def reset(user):
    with write_transaction():
        user.list_columns = ""


@dataclass
class Cell:
    """What one cell shows. badge: a tone ("ok", "danger" …) drawn as a badge; note: a
    second, smaller part (a phone number, a countdown) with its own badge tone or none."""

    text: str = ""
    badge: str = ""
    icon: str = ""
    note: str = ""
    note_badge: str = ""
    title: str = ""
    css: str = ""


@dataclass
class Row:
    id: int
    name: str
    url: str
    cells: Markup  # the <td>s of the shown columns, then of the phone card's others


class _Words:
    """The words rows repeat, translated once a page: each translation looks up the
    request's catalogue, and 25 rows asked for ~80 of them."""

    def __init__(self):
        self.inactive = _("inactive")
        self.pool = _("Public pool")
        self.overdue = _("Overdue")
        self.today = _("Today")
        self.due = _("due")
        self.stages = {stage: str(label) for stage, label in STAGE_LABELS.items()}
        self._days_left = {}

    def days_left(self, days):
        text = self._days_left.get(days)
        if text is None:
            text = self._days_left[days] = ngettext("%(num)s day left", "%(num)s days left", days)
        return text


class _Dates:
    """Dates formatted once each (rows of one page share many of them), without the
    year when it is this year's: 12/20, not 2026/12/20. Instants show as the day they
    fell on in the user's time zone."""

    def __init__(self, today):
        self._this_year = today.year
        self._seen = {}

    def date(self, value):
        if value is None:
            return ""
        value = local_date(value)
        text = self._seen.get(value)
        if text is None:
            text = self._seen[value] = format_date(value, "Md" if value.year == self._this_year else "short")
        return text


def rows(page, columns, today, countdowns):
    """The page's customers as rows of cells: the chosen columns (labelled()), then the
    card's that they leave out. A custom field's cell shows its value, masked where the
    viewer may not see the customer's details and the field is sensitive
    (fields/values.py)."""
    keys = {column.key for column in columns if column.field is None} | set(CARD_KEYS)
    custom = [column for column in columns if column.field is not None]
    names = field_values.user_names([column.field for column in custom], [c.custom for c in page.items])
    dates = _Dates(today)
    words = _Words()
    # url_for once: the rows differ only by the id at the end.
    url_pattern = url_for("ledger.show", customer_id=987654321).replace("987654321", "{}")
    shown_keys = {column.key for column in columns}
    writer = _Writer(columns, labelled(BY_KEY[key] for key in CARD_KEYS if key not in shown_keys))
    made = []
    for customer in page.items:
        cells = {}
        for key in keys:
            cells[key] = _CELLS[key](customer, page, today, countdowns, dates, words)
        for column in custom:
            cells[column.key] = _custom_cell(column.field, customer, page, dates, names)
        made.append(Row(customer.id, customer.name, url_pattern.format(customer.id), writer.cells(cells)))
    return made


class _Writer:
    """A row's cells as HTML: each shown column's <td> (its label repeated for the phone
    card, a title, a badge with its icon, a note), then the card's others."""

    def __init__(self, columns, card_only):
        self._shown = [(column.key, escape(column.label)) for column in columns]
        self._card = [(column.key, escape(column.label)) for column in card_only]
        self._icons = {}

    def cells(self, cells):
        written = []
        for key, label in self._shown:
            cell = cells[key]
            title = f' title="{escape(cell.title)}"' if cell.title else ""
            note = ""
            if cell.note:
                kind = f"badge badge-{cell.note_badge}" if cell.note_badge else "mono"
                note = f' <span class="{kind}">{escape(cell.note)}</span>'
            written.append(
                f'\n      <td class="col-{key} {escape(cell.css)}" data-label="{label}"{title}>'
                f"{self._content(cell)}{note}</td>"
            )
        for key, label in self._card:
            cell = cells[key]
            written.append(
                f'\n      <td class="col-{key} card-only {escape(cell.css)}" data-label="{label}">'
                f"{self._content(cell)}</td>"
            )
        return Markup("".join(written))

    def _content(self, cell):
        if not cell.badge:
            return escape(cell.text) if cell.text else "—"
        drawn = self._icons.get(cell.icon)
        if drawn is None:
            drawn = self._icons[cell.icon] = icon(cell.icon) if cell.icon else ""
        return f'<span class="badge badge-{cell.badge}">{drawn}{escape(cell.text)}</span>'


def _stage(customer, _page, _today, _countdowns, _dates, words):
    return Cell(words.stages[customer.stage], badge=customer.stage_tone, css=f"stage-{customer.stage}")


def _owner(customer, _page, _today, _countdowns, _dates, words):
    owner = customer.owner
    if owner is None:
        return Cell(words.pool, badge="pool", icon="pool")
    return Cell(owner.display_name, note="" if owner.active else words.inactive, note_badge="muted")


def _contact(customer, page, *_args):
    view = page.first_contacts.get(customer.id)
    if view is None:
        return Cell()
    return Cell(view.name, note=view.phones[0] if view.phones else "", css="masked" if view.masked else "")


def _amount(customer, *_args):
    amount = customer.expected_amount
    if not amount:
        return Cell(css="num")
    # 128万 here; the exact figure is on the customer's page.
    return Cell(compact_money(amount), css="num")


def _last_follow_up(customer, _page, _today, _countdowns, dates, _words):
    return Cell(dates.date(customer.last_follow_up_at))


def _next_follow_up(customer, _page, today, _countdowns, dates, words):
    due = customer.next_follow_up_on
    if due is None:
        return Cell()
    if due < today:
        return Cell(f"{words.overdue} · {dates.date(due)}", badge="danger", icon="alert")
    if due == today:
        return Cell(words.today, badge="warn", icon="clock")
    return Cell(dates.date(due))


def _reclaim(customer, _page, _today, countdowns, dates, words):
    countdown = countdowns.get(customer.id)
    if countdown is None:
        return Cell()
    left = words.due if countdown.due else words.days_left(countdown.days)
    return Cell(
        dates.date(customer.reclaim_at),
        note=left,
        note_badge="danger" if countdown.soon else "muted",
        css="reclaim-soon" if countdown.soon else "",
    )


def _grade(customer, *_args):
    return Cell(customer.grade)


def _region(customer, *_args):
    return Cell(customer.region)


def _source(customer, *_args):
    return Cell(str(SOURCE_LABELS.get(customer.source, "")))


def _tags(customer, *_args):
    return Cell(" · ".join(customer.tag_names))


def _created(customer, _page, _today, _countdowns, dates, _words):
    return Cell(dates.date(customer.created_at))


def _updated(customer, _page, _today, _countdowns, dates, _words):
    return Cell(dates.date(customer.updated_at))


def _custom_cell(custom_field, customer, page, dates, names):
    value = (customer.custom or {}).get(custom_field.key)
    visible = customer.id in page.visible_ids
    kind = custom_field.type
    css = "num" if kind in (FieldType.NUMBER, FieldType.MONEY) else ""
    if value is None or value == []:
        return Cell(css=css)
    if field_values.is_masked(custom_field, visible):
        return Cell(field_values.MASK, css=f"{css} masked".strip())
    if kind == FieldType.MONEY:
        # As the expected amount: 128万 here, the exact figure on the customer's page.
        return Cell(compact_money(field_types.money_of(value)), css=css)
    if kind == FieldType.DATE:
        return Cell(dates.date(date.fromisoformat(value)))
    return Cell(field_types.display(custom_field, value, names), css=css)


_CELLS = {
    "stage": _stage,
    "owner": _owner,
    "contact": _contact,
    "amount": _amount,
    "last_follow_up": _last_follow_up,
    "next_follow_up": _next_follow_up,
    "reclaim": _reclaim,
    "grade": _grade,
    "region": _region,
    "source": _source,
    "tags": _tags,
    "created": _created,
    "updated": _updated,
}

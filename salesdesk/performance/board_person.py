"""One person's performance (/performance/reps/<id>): their targets with progress and pace,
the board's figures for them against the previous period, and the deals they won."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..auth.models import Role, User
from ..database import is_id
from ..errors import NotFound
from ..extensions import db
from ..ledger.models import Customer
from . import access, board, measures, periods

WON_DEALS_LIMIT = 200


@dataclass
class WonDeal:
    customer_id: int
    name: str
    amount: object
    at: object


@dataclass
class PersonPage:
    person: User
    period: periods.Period
    compare: bool
    row: board.Row
    groups: list  # [(group label, [Cell])]
    won: list
    won_total: int
    zone: str

    @property
    def is_support(self):
        return self.person.role == Role.SUPPORT

    def args(self, **changes):
        values = {"period": self.period.key, "compare": None if self.compare else "none"} | changes
        return {key: value for key, value in values.items() if value is not None}


def get_person(viewer, user_id):
    person = db.session.get(User, user_id) if is_id(user_id) else None
    if person is None:
        raise NotFound(_("This person does not exist."))
    access.check_may_see_person(viewer, person)
    return person


def person_page(viewer, user_id, args):
    person = get_person(viewer, user_id)
    zone = measures.zone_of(person)
    period = periods.parse(args.get("period", ""), clock.today(zone))
    compare = args.get("compare", "previous") == "previous"
    supports = person.role == Role.SUPPORT
    sellers, supporters = ([], [person]) if supports else ([person], [])
    row = board.collect(sellers, supporters, period)[person.id]
    if not supports:
        board.attach_standings([row], period)
    columns = board.SUPPORT_COLUMNS if supports else board.COLUMNS
    groups = {}
    for column in columns:
        groups.setdefault(column.group, []).append(row.cell(column))
    won, total = ([], 0) if supports else _won_deals(person, period, zone)
    return PersonPage(
        person=person,
        period=period,
        compare=compare,
        row=row,
        groups=[(board.GROUP_LABELS[group], cells) for group, cells in groups.items()],
        won=won,
        won_total=total,
        zone=zone,
    )


def _won_deals(person, period, zone):
    """The wins credited to the person in the period (the measures' definition), newest
    first, and how many in all."""
    start, end = period.bounds(zone)
    wins = measures.standing_wins(start, end, [person.id]).subquery()
    rows = db.session.execute(
        select(wins.c.customer_id, Customer.name, wins.c.amount, wins.c.at)
        .join(Customer, Customer.id == wins.c.customer_id)
        .order_by(wins.c.at.desc(), wins.c.customer_id.desc())
        .limit(WON_DEALS_LIMIT)
    ).all()
    total = row_count = len(rows)
    if row_count == WON_DEALS_LIMIT:
        total = db.session.scalar(select(db.func.count()).select_from(wins))
    local = ZoneInfo(zone)
    return [
        WonDeal(customer_id, name, amount, at.astimezone(local)) for customer_id, name, amount, at in rows
    ], total

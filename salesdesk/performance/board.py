"""The performance board (绩效看板): for a team (or, for admins, the company) and a period,
each person's results, process and collaboration against the previous period, their
targets with pace, a totals row, and the funnel (funnel.py). Its export is export.py.

Won deals, new customers, follow-ups and visits come from measures.py's definitions
(a win is credited to the owner at the moment of winning); the follow-ups from the
counts kept ahead per person and month. Everything else is one grouped query per
figure family and time zone, over both periods at once (a CASE says which period a
row falls in): never a query per person. Every family's rows are ids and sums, the
wins' cycle in days included. The families and the funnel are read at the same time
on PostgreSQL (database.concurrently)."""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import joinedload

from .. import clock, database
from ..auth.models import Role, Team, User
from ..extensions import db
from ..kb.models import Revision
from ..ledger.models import CHANNEL_LABELS, Customer, OwnershipChange
from ..recognition.models import PointEntry
from ..support import metrics as support_metrics
from ..support.models import Request
from . import access, follow_up_counts, measures, pace, periods, targets
from .models import MEASURE_LABELS, Measure

RESULTS, PROCESS, COLLABORATION, SUPPORT = "results", "process", "collaboration", "support"
GROUP_LABELS = {
    RESULTS: _l("Results"),
    PROCESS: _l("Process"),
    COLLABORATION: _l("Collaboration"),
    SUPPORT: _l("Support work"),
}
MONEY, COUNT, PERCENT, DAYS, RATING = "money", "count", "percent", "days", "rating"
RECLAIM_REASONS = ("reclaim_no_follow_up", "reclaim_no_deal")
CHANNELS = {"phone": "phone", "wechat": "wechat", "visit": "visits", "email": "email", "meeting": "meeting"}
CENT = Decimal("0.01")
CHARTED = 20  # people in the won-amount chart; the table has everyone


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    group: str
    kind: str = COUNT
    main: bool = False  # shown with the previous period's figure and the change
    now: bool = False  # a figure of today: no previous period
    help: object = ""


COLUMNS = [
    Column("won_amount", MEASURE_LABELS[Measure.WON_AMOUNT], RESULTS, MONEY, main=True),
    Column("won_count", MEASURE_LABELS[Measure.WON_COUNT], RESULTS, main=True),
    Column("win_rate", _l("Win rate"), RESULTS, PERCENT, main=True, help=_l("won ÷ (won + lost)")),
    Column("average_deal", _l("Average deal"), RESULTS, MONEY, main=True),
    Column("average_cycle", _l("Average cycle (days)"), RESULTS, DAYS, help=_l("from first owning to won")),
    Column("follow_ups", MEASURE_LABELS[Measure.FOLLOW_UPS], PROCESS, main=True),
    *(
        Column(
            key,
            MEASURE_LABELS[Measure.VISITS] if key == "visits" else CHANNEL_LABELS[channel],
            PROCESS,
            main=key == "visits",
        )
        for channel, key in CHANNELS.items()
    ),
    Column("customers_touched", _l("Customers touched"), PROCESS),
    Column("new_customers", MEASURE_LABELS[Measure.NEW_CUSTOMERS], PROCESS, main=True),
    Column("overdue", _l("Overdue follow-ups now"), PROCESS, now=True),
    Column("claims", _l("Claimed from the pool"), PROCESS),
    Column("lost_to_reclaim", _l("Lost to reclaim"), PROCESS),
    Column("points", _l("Points received"), COLLABORATION, main=True),
    Column("kb_articles", _l("KB articles written or revised"), COLLABORATION),
    Column("requests_filed", _l("Support requests filed"), COLLABORATION),
    Column("satisfaction_given", _l("Satisfaction given"), COLLABORATION, RATING),
]
SUPPORT_COLUMNS = [
    Column("handled", _l("Requests resolved"), SUPPORT, main=True),
    Column("response_on_time", _l("First response on time"), SUPPORT, PERCENT),
    Column("resolution_on_time", _l("Resolved on time"), SUPPORT, PERCENT, main=True),
    Column("satisfaction_received", _l("Satisfaction received"), SUPPORT, RATING, main=True),
    Column("ratings_received", _l("Ratings received"), SUPPORT),
    Column("points", _l("Points received"), COLLABORATION, main=True),
    Column("kb_articles", _l("KB articles written or revised"), COLLABORATION),
]
NAME = "name"
SORT_KEYS = {NAME} | {column.key for column in COLUMNS}
DEFAULT_SORT = "won_amount"
# The figures a row keeps; the columns above are computed from them, so a total is
# the sum of its people's parts (a win rate of the team, not an average of rates).
PARTS = (
    "won_amount won_count lost cycle_days cycle_deals follow_ups phone wechat visits email meeting "
    "customers_touched new_customers overdue claims lost_to_reclaim points kb_articles requests_filed "
    "ratings_given_sum ratings_given handled resolution_met responded response_met "
    "ratings_received_sum ratings_received"
).split()


def _blank():
    return {part: Decimal("0.00") if part == "won_amount" else 0 for part in PARTS}


def _ratio(part, whole, scale=1):
    return None if not whole else Decimal(part) * scale / Decimal(whole)


def value_of(parts, key):
    """A column's figure from a row's parts (None: nothing to compute it from)."""
    if key == "win_rate":
        return _ratio(parts["won_count"], parts["won_count"] + parts["lost"], 100)
    if key == "average_deal":
        average = _ratio(parts["won_amount"], parts["won_count"])
        return None if average is None else average.quantize(CENT)
    if key == "average_cycle":
        return _ratio(parts["cycle_days"], parts["cycle_deals"])
    if key == "satisfaction_given":
        return _ratio(parts["ratings_given_sum"], parts["ratings_given"])
    if key == "response_on_time":
        return _ratio(parts["response_met"], parts["responded"], 100)
    if key == "resolution_on_time":
        return _ratio(parts["resolution_met"], parts["handled"], 100)
    if key == "satisfaction_received":
        return _ratio(parts["ratings_received_sum"], parts["ratings_received"])
    return parts[key]


@dataclass
class Cell:
    column: Column
    value: object
    previous: object = None

    @property
    def change(self):
        if self.column.now or self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass
class Row:
    """One person (user None: the totals) with this period's and the previous one's parts."""

    user: User | None
    parts: dict = field(default_factory=_blank)
    previous: dict = field(default_factory=_blank)
    standing: targets.Standing | None = None

    def value(self, key):
        return self.user.display_name if key == NAME else value_of(self.parts, key)

    def cell(self, column):
        return Cell(column, value_of(self.parts, column.key), value_of(self.previous, column.key))

    def add(self, other):
        for part in PARTS:
            self.parts[part] += other.parts[part]
            self.previous[part] += other.previous[part]
        return self


# ---- what the board shows: read leniently, except what must be refused ------------------


@dataclass(frozen=True)
class BoardFilters:
    period: periods.Period
    team: Team | None  # None: the whole company (admins) or a person without a team
    company: bool
    compare: bool = True
    sort: str = DEFAULT_SORT
    direction: str = "desc"

    @classmethod
    def from_args(cls, args, viewer):
        """BadPeriod (400) for a period like 2026-13; NotFound for a team that does not
        exist. A manager's or rep's team is their own, whatever the address says (as
        the manager home and the support metrics do)."""
        team = access.team_for(viewer, (args.get("team") or "").strip())
        company = team is None and access.may_pick_team(viewer)
        zone = team.timezone if team is not None else viewer.timezone
        period = periods.parse(args.get("period", ""), clock.today(zone))
        sort = args.get("sort", "")
        sort = sort if sort in SORT_KEYS else DEFAULT_SORT
        direction = args.get("direction", "")
        if direction not in ("asc", "desc"):
            direction = "asc" if sort == NAME else "desc"
        return cls(period, team, company, args.get("compare", "previous") == "previous", sort, direction)

    def args(self, **changes):
        values = {
            "period": self.period.key,
            "team": self.team.id if self.team is not None and self.company is False else None,
            "compare": None if self.compare else "none",
            "sort": None if self.sort == DEFAULT_SORT else self.sort,
            "direction": None
            if self.direction == ("asc" if self.sort == NAME else "desc")
            else self.direction,
        } | changes
        return {key: value for key, value in values.items() if value not in ("", None)}

    def sort_args(self, key):
        """The arguments of a header's link: its column, the other way round when it is
        the current one."""
        if key == self.sort:
            direction = "asc" if self.direction == "desc" else "desc"
        else:
            direction = "asc" if key == NAME else "desc"
        return self.args(sort=key, direction=direction)


def people(team, company):
    """(sellers, support users) measured on the board: the active reps and managers of
    the team (every team's for the company), and its active support users."""
    # Their teams with them: each person's zone is read from it (measures.by_zone).
    query = (
        select(User)
        .options(joinedload(User.team))
        .where(User.active.is_(True))
        .order_by(User.display_name, User.id)
    )
    if not company:
        if team is None:
            return [], []
        query = query.where(User.team_id == team.id)
    everyone = db.session.scalars(query).all()
    sellers = [user for user in everyone if user.role in Role.SELLERS and user.team_id is not None]
    return sellers, [user for user in everyone if user.role == Role.SUPPORT]


# ---- the figures -----------------------------------------------------------------------


# How much of the previous period a caller needs: every figure (one person's page
# compares them all), the main columns' (the board and its export show the previous
# figure under those alone), or none (the board without comparison).
COMPARE_EVERY, COMPARE_MAIN, COMPARE_NONE = "every", "main", "none"


def collect(sellers, supporters, period):
    """{user_id: Row} for everyone, this period and the previous one."""
    rows, calls = _families(sellers, supporters, period, COMPARE_EVERY)
    database.concurrently(calls)
    return rows


def _families(sellers, supporters, period, previous):
    """Blank rows, and the calls that fill them: one per figure family and time zone,
    each writing its own parts of the rows, so that they can run at the same time. A
    family spans the previous period too where `previous` asks for its figures."""
    rows = {user.id: Row(user) for user in [*sellers, *supporters]}
    calls = []

    def read(family, ids, zone):
        both = previous == COMPARE_EVERY or (previous == COMPARE_MAIN and family in COMPARED)
        periods_read = [period, period.previous] if both else [period]
        if family is _follow_ups:
            return partial(family, rows, ids, zone, periods_read)
        return partial(family, rows, ids, [each.bounds(zone) for each in periods_read])

    for zone, ids in measures.by_zone(sellers).items():
        calls += [
            read(family, ids, zone)
            for family in (_follow_ups, _wins, _new_customers, _losses, _ownership, _requests_filed)
        ]
        calls.append(partial(_overdue, rows, ids, clock.today(zone)))
    for zone, ids in measures.by_zone([*sellers, *supporters]).items():
        calls += [read(_points, ids, zone), read(_kb, ids, zone)]
    for zone, ids in measures.by_zone(supporters).items():
        calls.append(read(_handled, ids, zone))
    return rows, calls


def _which(moment, spans):
    """0 for a moment in this period, 1 in the previous one (when the query spans both)."""
    return case((moment >= spans[0][0], 0), else_=1)


def _within(moment, spans):
    return and_(moment >= spans[-1][0], moment < spans[0][1])


def _parts(rows, user_id, which):
    return rows[user_id].parts if which == 0 else rows[user_id].previous


def _wins(rows, ids, spans):
    """Won count and amount (the measures' definition) and the days from the owner's
    first ownership of the customer to the win, summed per person and period in SQL."""
    wins = measures.standing_wins(spans[-1][0], spans[0][1], ids).subquery()
    first_owned = (
        select(func.min(OwnershipChange.at))
        .where(
            OwnershipChange.customer_id == wins.c.customer_id,
            OwnershipChange.to_user_id == wins.c.owner_id,
            OwnershipChange.at <= wins.c.at,
        )
        .scalar_subquery()
    )
    # Materialised: inlined, the outer sum and count would each look first_owned up.
    days = database.days_between(wins.c.at, first_owned).label("days")
    cycles = select(wins.c.owner_id, wins.c.amount, wins.c.at, days).cte("cycles").prefix_with("MATERIALIZED")
    which = _which(cycles.c.at, spans)
    query = select(
        cycles.c.owner_id,
        which,
        func.count(),
        func.sum(cycles.c.amount),
        func.sum(cycles.c.days),
        func.count(cycles.c.days),
    ).group_by(cycles.c.owner_id, which)
    for owner_id, period_index, count, amount, days, with_cycle in db.session.execute(query):
        parts = _parts(rows, owner_id, period_index)
        parts["won_count"], parts["won_amount"] = count, amount
        parts["cycle_days"], parts["cycle_deals"] = Decimal(days or 0), with_cycle


def _losses(rows, ids, spans):
    losses = measures.standing_losses(spans[-1][0], spans[0][1], ids).subquery()
    which = _which(losses.c.at, spans)
    for owner_id, period_index, count in db.session.execute(
        select(losses.c.owner_id, which, func.count()).group_by(losses.c.owner_id, which)
    ):
        _parts(rows, owner_id, period_index)["lost"] = count


def _new_customers(rows, ids, spans):
    new = measures.new_customers(spans[-1][0], spans[0][1], ids).subquery()
    which = _which(new.c.at, spans)
    for user_id, period_index, count in db.session.execute(
        select(new.c.user_id, which, func.count(distinct(new.c.customer_id))).group_by(new.c.user_id, which)
    ):
        _parts(rows, user_id, period_index)["new_customers"] = count


def _follow_ups(rows, ids, zone, periods_read):
    """Follow-ups by channel and the customers touched, from the counts kept ahead per
    person and month (follow_up_counts.py), for the period (and the previous one)."""
    for which, each in enumerate(periods_read):
        for author_id, (channels, touched) in follow_up_counts.by_author(ids, zone, each).items():
            parts = _parts(rows, author_id, which)
            parts["follow_ups"], parts["customers_touched"] = sum(channels.values()), touched
            for channel, key in CHANNELS.items():
                parts[key] = channels.get(channel, 0)


def _ownership(rows, ids, spans):
    """Claims from the pool (to the person) and customers returned to the pool by the
    reclaim rules (from the person)."""
    which = _which(OwnershipChange.at, spans)
    claimed = and_(OwnershipChange.reason == "claim", OwnershipChange.to_user_id.in_(ids))
    reclaimed = and_(OwnershipChange.reason.in_(RECLAIM_REASONS), OwnershipChange.from_user_id.in_(ids))
    query = (
        select(
            OwnershipChange.reason,
            OwnershipChange.to_user_id,
            OwnershipChange.from_user_id,
            which,
            func.count(),
        )
        .where(OwnershipChange.reason.in_(("claim", *RECLAIM_REASONS)), _within(OwnershipChange.at, spans))
        .where(or_(claimed, reclaimed))
        .group_by(OwnershipChange.reason, OwnershipChange.to_user_id, OwnershipChange.from_user_id, which)
    )
    for reason, to_user_id, from_user_id, period_index, count in db.session.execute(query):
        if reason == "claim":
            _parts(rows, to_user_id, period_index)["claims"] += count
        elif from_user_id in rows:
            _parts(rows, from_user_id, period_index)["lost_to_reclaim"] += count


def _overdue(rows, ids, today):
    """Owned customers whose next follow-up is before today, now (as the manager home)."""
    query = (
        select(Customer.owner_id, func.count())
        .where(Customer.owner_id.in_(ids), Customer.deleted_at.is_(None), Customer.next_follow_up_on < today)
        .group_by(Customer.owner_id)
    )
    for owner_id, count in db.session.execute(query):
        rows[owner_id].parts["overdue"] = count


def _points(rows, ids, spans):
    which = _which(PointEntry.counted_at, spans)
    query = (
        select(PointEntry.recipient_id, which, func.sum(PointEntry.points))
        .where(PointEntry.recipient_id.in_(ids), _within(PointEntry.counted_at, spans))
        .group_by(PointEntry.recipient_id, which)
    )
    for user_id, period_index, points in db.session.execute(query):
        _parts(rows, user_id, period_index)["points"] = points or 0


def _kb(rows, ids, spans):
    which = _which(Revision.created_at, spans)
    query = (
        select(Revision.author_id, which, func.count(distinct(Revision.article_id)))
        .where(Revision.author_id.in_(ids), _within(Revision.created_at, spans))
        .group_by(Revision.author_id, which)
    )
    for user_id, period_index, count in db.session.execute(query):
        _parts(rows, user_id, period_index)["kb_articles"] = count


def _requests_filed(rows, ids, spans):
    """Requests a person filed (by created_at) and the ratings they gave (by closed_at)."""
    which = _which(Request.created_at, spans)
    for user_id, period_index, count in db.session.execute(
        select(Request.requester_id, which, func.count())
        .where(Request.requester_id.in_(ids), _within(Request.created_at, spans))
        .group_by(Request.requester_id, which)
    ):
        _parts(rows, user_id, period_index)["requests_filed"] = count
    which = _which(Request.closed_at, spans)
    for user_id, period_index, total, count in db.session.execute(
        select(Request.requester_id, which, func.sum(Request.rating), func.count(Request.rating))
        .where(Request.requester_id.in_(ids), Request.rating.is_not(None), _within(Request.closed_at, spans))
        .group_by(Request.requester_id, which)
    ):
        parts = _parts(rows, user_id, period_index)
        parts["ratings_given_sum"], parts["ratings_given"] = total or 0, count


def _handled(rows, ids, spans):
    """A support user's resolutions, service levels and ratings received, counted as the
    support metrics count them (each by its own moment)."""
    for handler_id, each_span in support_metrics.handler_counts(ids, spans).items():
        for which, counts in enumerate(each_span):
            parts = _parts(rows, handler_id, which)
            parts["handled"], parts["resolution_met"] = counts.resolved, counts.resolution_met
            parts["responded"], parts["response_met"] = counts.responded, counts.response_met
            parts["ratings_received"], parts["ratings_received_sum"] = counts.rated, counts.stars_total


# The columns each family's parts make (value_of), so that a family spans the previous
# period where one of its columns is compared.
FEEDS = {
    _wins: ("won_amount", "won_count", "win_rate", "average_deal", "average_cycle"),
    _losses: ("win_rate",),
    _new_customers: ("new_customers",),
    _follow_ups: ("follow_ups", *CHANNELS.values(), "customers_touched"),
    _ownership: ("claims", "lost_to_reclaim"),
    _requests_filed: ("requests_filed", "satisfaction_given"),
    _points: ("points",),
    _kb: ("kb_articles",),
    _handled: tuple(column.key for column in SUPPORT_COLUMNS if column.group == SUPPORT),
}
COLUMNS_BY_KEY = {column.key: column for column in [*COLUMNS, *SUPPORT_COLUMNS]}
# The families a compared board reads for the previous period too.
COMPARED = frozenset(
    family for family, keys in FEEDS.items() if any(COLUMNS_BY_KEY[key].main for key in keys)
)


# ---- targets ---------------------------------------------------------------------------


def measure_figures(parts):
    """The five measures of a row, as targets.Standing wants them."""
    figures = measures.Figures()
    for measure in Measure:
        figures.values[measure] = parts[measure.value if measure != Measure.VISITS else "visits"]
    return figures


def attach_standings(rows, period, wanted=None):
    """Each seller's targets and pace, from the figures already collected (the same
    definitions as targets.standings, without counting them again). wanted: their
    targets (targets.targets_of), when the caller has read them already."""
    if wanted is None:
        wanted = targets.targets_of([row.user.id for row in rows], period)
    shares = {}  # by time zone: the calendar is the same for every team in one
    for row in rows:
        zone = measures.zone_of(row.user)
        if zone not in shares:
            shares[zone] = targets.share_and_closed(row.user.team, period)
        share, closed = shares[zone]
        row.standing = targets.Standing(wanted[row.user.id], measure_figures(row.parts))
        row.standing.paces = {
            measure: pace.pace(row.standing.targets[measure], row.standing.figures[measure], share, closed)
            for measure in Measure
        }


def total_standing(team, rows, period):
    """The team's standing (its own targets, else its people's sum); for the company the
    sum of everyone's, paced by the company's calendar."""
    standings = {row.user.id: row.standing for row in rows}
    if team is not None:
        return targets.team_standing(team, standings, period)
    return targets.company_standing(standings, period)


# ---- the board -------------------------------------------------------------------------


@dataclass
class Board:
    filters: BoardFilters
    rows: list  # sellers, sorted
    support_rows: list
    total: Row
    support_total: Row
    standing: targets.Standing | None
    funnel: object = None
    ranking_only: bool = False

    @property
    def period(self):
        return self.filters.period

    @property
    def scope(self):
        if self.filters.company:
            return _("The whole company")
        return self.filters.team.name if self.filters.team is not None else ""

    @property
    def charted(self):
        """The people of the won-amount chart: the largest amounts, CHARTED at most."""
        return sorted(self.rows, key=lambda row: row.parts["won_amount"], reverse=True)[:CHARTED]

    @property
    def more_than_charted(self):
        return len(self.rows) > CHARTED


def sort_rows(rows, key, direction):
    """Rows by a column; a person without a figure (no deal, no rating) goes last either
    way, and equal figures keep the order of names."""
    descending = direction == "desc"
    by_name = sorted(rows, key=lambda row: (row.user.display_name, row.user.id))
    if key == NAME:
        return by_name[::-1] if descending else by_name
    present = [row for row in by_name if row.value(key) is not None]
    missing = [row for row in by_name if row.value(key) is None]
    return sorted(present, key=lambda row: row.value(key), reverse=descending) + missing


def board(viewer, args):
    """The board `viewer` may see for the address's arguments (the view checked
    may_see_ranking). A rep gets the ranking by won amount alone."""
    from . import funnel  # the funnel reads the stage history its own way

    filters = BoardFilters.from_args(args, viewer)
    sellers, supporters = people(filters.team, filters.company)
    if not access.may_see_board(viewer):
        return _ranking(filters, sellers)
    team = filters.team
    funnel_of_period = partial(
        funnel.funnel,
        team.id if team is not None else None,
        team.timezone if team is not None else None,
        filters.company,
        filters.period,
    )
    previous = COMPARE_MAIN if filters.compare else COMPARE_NONE
    rows, calls = _families(sellers, supporters, filters.period, previous)
    targets_of_period = partial(targets.targets_of, [user.id for user in sellers], filters.period)
    funnel_figures, wanted, *_filled = database.concurrently([funnel_of_period, targets_of_period, *calls])
    seller_rows = [rows[user.id] for user in sellers]
    support_rows = [rows[user.id] for user in supporters]
    attach_standings(seller_rows, filters.period, wanted)
    total, support_total = Row(None), Row(None)
    for row in seller_rows:
        total.add(row)
    for row in support_rows:
        support_total.add(row)
    return Board(
        filters=filters,
        rows=sort_rows(seller_rows, filters.sort, filters.direction),
        support_rows=sort_rows(support_rows, NAME, "asc"),
        total=total,
        support_total=support_total,
        standing=total_standing(filters.team, seller_rows, filters.period) if seller_rows else None,
        funnel=funnel_figures,
    )


def _ranking(filters, sellers):
    """A rep's view: their team's people by won amount (measures.progress), nothing else."""
    progress = measures.progress(sellers, filters.period)
    rows = []
    for user in sellers:
        row = Row(user)
        row.parts["won_amount"] = progress[user.id][Measure.WON_AMOUNT]
        row.parts["won_count"] = progress[user.id][Measure.WON_COUNT]
        rows.append(row)
    ranked = sort_rows(rows, "won_amount", "desc")
    return Board(filters, ranked, [], Row(None), Row(None), None, ranking_only=True)

"""The recognition rules. Every way points come into being — the award and thanks forms,
the customer page's award action, automatic points, the CLI, the demo — goes through
these functions, and every limit is checked in the transaction that inserts the entry.

Budgets hold under concurrency: on SQLite the write transaction holds the database's
write lock; on PostgreSQL the giver's user row is locked (FOR NO KEY UPDATE, which
does not block inserts referring to the user) before the budget is read.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, clock
from ..auth.models import Team, User
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..jobs import periodic
from ..ledger.models import Collaborator, CollaboratorStatus, Customer
from ..notifications import notify, register_kinds
from . import access, summaries
from .models import (
    CATEGORY_LABELS,
    Category,
    Cause,
    Kind,
    MonthClosing,
    PointEntry,
    PointTotal,
    RecognitionSettings,
    StarBadge,
    helpful_reason,
    won_reason,
)
from .periods import (
    PERIODS,
    Period,
    add_months,
    current_and_previous,
    month_bounds,
    month_start,
    this_month,
    week_start,
)

MAX_REASON = 500
MAX_ID = 2**31 - 1
PAGE_SIZE = 20
BOARD_LIMIT = 20
# Mutual thanks: pairs whose exchanges are this many times the average of the team's other pairs.
MUTUAL_FACTOR = 3
MUTUAL_MIN_EACH_WAY = 2


register_kinds(
    {
        "points.received": _l("%(giver)s gave you %(points)s points: %(reason)s"),
        "points.thanked": _l("%(giver)s thanked you with %(points)s points: %(reason)s"),
        "points.customer_won": _l("+%(points)s points: %(customer)s was won with your help"),
        "points.article_helpful": _l("+%(points)s points: a colleague found your article helpful"),
        "points.reversed": _l("%(points)s points were reversed: %(reason)s"),
        "badge.awarded": _l("You are a Collaboration Star of %(month)s (rank %(rank)s)"),
    }
)
audit.register_actions(
    {
        "points.reversed": _l("Points reversed"),
        "recognition.settings": _l("Recognition settings changed"),
    }
)

# ---- time zones -------------------------------------------------------------------


def user_zone(user):
    return ZoneInfo(user.timezone if user is not None else company_zone_name())


def company_zone_name():
    """Months close company-wide in the default time zone."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# ---- settings ---------------------------------------------------------------------

SETTING_RANGES = {
    "award_monthly_budget": (0, 100_000),
    "award_max_points": (1, 10_000),
    "thanks_monthly_budget": (0, 1_000),
    "thanks_max_points": (1, 100),
    "thanks_per_colleague_weekly": (1, 100),
    "helpful_points": (1, 100),
    "helpful_monthly_cap": (1, 1_000),
    "won_points": (1, 10_000),
}


def get_settings(session=None):
    session = session or db.session
    return session.get(RecognitionSettings, 1) or RecognitionSettings.defaults()


def update_settings(actor, **values):
    if not access.may_change_settings(actor):
        raise Forbidden(_("Only administrators can change the recognition settings."))
    for name, (low, high) in SETTING_RANGES.items():
        value = values.get(name)
        if not _is_int(value) or not low <= value <= high:
            raise DomainError(
                _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field=name
            )
    for name in ("helpful_enabled", "won_enabled"):
        if not isinstance(values.get(name), bool):
            raise DomainError(_("Choose on or off."), field=name)
    try:
        with write_transaction() as session:
            settings = session.get(RecognitionSettings, 1)
            if settings is None:
                settings = RecognitionSettings.defaults()
                session.add(settings)
            changes = {
                name: [getattr(settings, name), values[name]]
                for name in RecognitionSettings.FIELDS
                if getattr(settings, name) != values[name]
            }
            for name in RecognitionSettings.FIELDS:
                setattr(settings, name, values[name])
            settings.updated_at = clock.now()
            settings.updated_by_id = actor.id
            if changes:
                audit.record("recognition.settings", actor=actor, changes=changes)
    except IntegrityError as error:
        # Two administrators saved the very first settings at the same moment.
        raise Conflict(
            _("Someone else saved the settings at the same moment. Check them and save again.")
        ) from error
    return settings


# ---- loaders ----------------------------------------------------------------------


def get_person(user_id):
    person = db.session.get(User, user_id) if _is_id(user_id) else None
    if person is None:
        raise NotFound(_("This colleague does not exist."))
    return person


def get_entry(entry_id):
    if not _is_id(entry_id):
        raise NotFound(_("This entry does not exist."))
    entry = db.session.scalar(
        select(PointEntry)
        .where(PointEntry.id == entry_id)
        .options(
            joinedload(PointEntry.recipient),
            joinedload(PointEntry.giver),
            joinedload(PointEntry.customer),
            selectinload(PointEntry.reversed_by).joinedload(PointEntry.giver),
            joinedload(PointEntry.reversal_of),
        )
    )
    if entry is None:
        raise NotFound(_("This entry does not exist."))
    return entry


def get_customer(customer_id, session=None):
    """A customer that points may be linked to (not in the trash)."""
    session = session or db.session
    customer = session.get(Customer, customer_id) if _is_id(customer_id) else None
    if customer is None or customer.deleted_at is not None:
        raise NotFound(_("This customer does not exist."))
    return customer


def get_customer_or_none(customer_id):
    try:
        return get_customer(customer_id)
    except NotFound:
        return None


def recipient_choices(giver):
    """(id, label) of everyone the giver may give points to, by team and name."""
    rows = db.session.execute(
        select(User.id, User.display_name, Team.name)
        .join(Team, User.team_id == Team.id)
        .where(User.active.is_(True), User.id != giver.id)
        .order_by(Team.name, User.display_name, User.id)
    )
    return [(user_id, f"{name} · {team}") for user_id, name, team in rows]


# ---- validation helpers -----------------------------------------------------------


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value):
    """A possible row id: a forged 10**20 must be "not found", not a database error."""
    return _is_int(value) and 0 < value <= MAX_ID


def _check_points(points, high):
    if not _is_int(points) or not 1 <= points <= high:
        raise DomainError(
            _("Points must be a whole number from %(low)s to %(high)s.", low=1, high=high), field="points"
        )
    return points


def _check_category(category):
    if category not in CATEGORY_LABELS:
        raise DomainError(_("Choose a category."), field="category")
    return Category(category)


def _check_reason(reason, field="reason"):
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise DomainError(_("Say why: a reason is required."), field=field)
    if len(reason) > MAX_REASON:
        raise DomainError(_("Keep the reason to %(max)s characters.", max=MAX_REASON), field=field)
    return reason


def _lock_user(session, user_id):
    """Serialise budget checks per giver (a no-op lock on SQLite, which serialises writers)."""
    return session.execute(
        select(User)
        .where(User.id == user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _recipient(session, recipient_id, giver):
    if recipient_id is None:
        raise DomainError(_("Choose a colleague."), field="recipient_id")
    recipient = session.get(User, recipient_id) if _is_id(recipient_id) else None
    if recipient is None:
        raise NotFound(_("This colleague does not exist."), field="recipient_id")
    if recipient.id == giver.id:
        raise DomainError(_("You cannot give points to yourself."), field="recipient_id")
    if not recipient.active:
        raise DomainError(
            _("%(name)s is deactivated and cannot receive points.", name=recipient.display_name),
            field="recipient_id",
        )
    if recipient.team_id is None:
        raise DomainError(_("Only members of a team can receive points."), field="recipient_id")
    return recipient


def _not_reversed():
    return ~select(summaries.Reversal.id).where(summaries.Reversal.reversal_of_id == PointEntry.id).exists()


def _given_since(session, giver_id, kind, since, recipient_id=None):
    """(points, count) the giver gave of this kind since `since`; reversed entries do not count."""
    query = select(func.coalesce(func.sum(PointEntry.points), 0), func.count()).where(
        PointEntry.giver_id == giver_id,
        PointEntry.kind == kind,
        PointEntry.counted_at >= since,
        _not_reversed(),
    )
    if recipient_id is not None:
        query = query.where(PointEntry.recipient_id == recipient_id)
    points, count = session.execute(query).one()
    return int(points), count


def _path(endpoint, **values):
    """A link for a notification, with or without a request (CLI, demo)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def _add_entry(session, **fields):
    now = clock.now()
    fields.setdefault("counted_at", now)
    entry = PointEntry(created_at=now, **fields)
    session.add(entry)
    session.flush()
    summaries.record(session, entry)
    return entry


# ---- budgets ----------------------------------------------------------------------


@dataclass
class Budget:
    budget: int
    spent: int

    @property
    def remaining(self):
        return max(0, self.budget - self.spent)


def _budget(session, user, kind, monthly):
    zone = user_zone(user)
    since = month_bounds(this_month(clock.now(), zone), zone)[0]
    spent, _count = _given_since(session, user.id, kind, since)
    return Budget(monthly, spent)


def award_budget(user):
    return _budget(db.session, user, Kind.AWARD, get_settings().award_monthly_budget)


def thanks_budget(user):
    return _budget(db.session, user, Kind.THANKS, get_settings().thanks_monthly_budget)


# ---- giving points ----------------------------------------------------------------


def award_points(giver, *, recipient_id, points, category, reason, customer_id=None):
    """A manager's (or administrator's) award from their monthly budget."""
    with write_transaction() as session:
        giver = _lock_user(session, giver.id)
        if not access.may_award(giver):
            raise Forbidden(_("Only managers and administrators can award points."))
        settings = get_settings(session)
        gift = _Gift(
            session, giver, recipient_id, points, settings.award_max_points, category, reason, customer_id
        )
        budget = _budget(session, giver, Kind.AWARD, settings.award_monthly_budget)
        if gift.points > budget.remaining:
            raise DomainError(
                _(
                    "Not enough budget: %(remaining)s of your %(budget)s points are left this month.",
                    remaining=budget.remaining,
                    budget=budget.budget,
                ),
                field="points",
            )
        return gift.give(Kind.AWARD, "points.received")


def thank(giver, *, recipient_id, points, category, reason, customer_id=None):
    """Thanks between colleagues (感谢): a few points from a small monthly budget."""
    with write_transaction() as session:
        giver = _lock_user(session, giver.id)
        if not giver.active:
            raise Forbidden(_("You do not have permission to do this."))
        settings = get_settings(session)
        gift = _Gift(
            session, giver, recipient_id, points, settings.thanks_max_points, category, reason, customer_id
        )
        budget = _budget(session, giver, Kind.THANKS, settings.thanks_monthly_budget)
        if gift.points > budget.remaining:
            raise DomainError(
                _(
                    "Not enough thanks left: %(remaining)s of your %(budget)s points are left this month.",
                    remaining=budget.remaining,
                    budget=budget.budget,
                ),
                field="points",
            )
        limit = settings.thanks_per_colleague_weekly
        week_began = week_start(clock.now(), user_zone(giver))
        _points, times = _given_since(session, giver.id, Kind.THANKS, week_began, gift.recipient.id)
        if times >= limit:
            raise DomainError(
                _(
                    "You have thanked %(name)s %(count)s times this week; the limit is %(limit)s a week.",
                    name=gift.recipient.display_name,
                    count=times,
                    limit=limit,
                ),
                field="recipient_id",
            )
        return gift.give(Kind.THANKS, "points.thanked")


class _Gift:
    """Points one user gives another, checked field by field (in the caller's
    transaction), then written with the recipient's notification."""

    def __init__(self, session, giver, recipient_id, points, max_points, category, reason, customer_id):
        self.session, self.giver = session, giver
        self.recipient = _recipient(session, recipient_id, giver)
        self.points = _check_points(points, max_points)
        self.category = _check_category(category)
        self.reason = _check_reason(reason)
        self.customer = get_customer(customer_id, session) if customer_id is not None else None

    def give(self, kind, notification_kind):
        entry = _add_entry(
            self.session,
            kind=kind,
            recipient_id=self.recipient.id,
            giver_id=self.giver.id,
            points=self.points,
            category=self.category,
            reason=self.reason,
            customer_id=self.customer.id if self.customer else None,
        )
        notify(
            self.recipient,
            notification_kind,
            link=_path("recognition.entry", entry_id=entry.id),
            giver=self.giver.display_name,
            points=self.points,
            reason=self.reason,
        )
        return entry


def reverse_entry(actor, entry_id, *, reason):
    """An administrator's correction: a negative entry that cancels one entry."""
    if not access.may_reverse(actor):
        raise Forbidden(_("Only administrators can reverse points."))
    reason = _check_reason(reason)
    try:
        with write_transaction() as session:
            entry = session.get(PointEntry, entry_id) if _is_id(entry_id) else None
            if entry is None:
                raise NotFound(_("This entry does not exist."))
            if entry.kind == Kind.REVERSAL:
                raise Conflict(_("A reversal cannot be reversed."))
            if session.scalar(select(PointEntry.id).where(PointEntry.reversal_of_id == entry.id)):
                raise Conflict(_("This entry has already been reversed."))
            reversal = _add_entry(
                session,
                kind=Kind.REVERSAL,
                recipient_id=entry.recipient_id,
                giver_id=actor.id,
                points=-entry.points,
                category=entry.category,
                reason=reason,
                customer_id=entry.customer_id,
                article_id=entry.article_id,
                reversal_of_id=entry.id,
                counted_at=entry.counted_at,
            )
            notify(
                entry.recipient_id,
                "points.reversed",
                link=_path("recognition.entry", entry_id=entry.id),
                points=entry.points,
                reason=reason,
            )
            audit.record(
                "points.reversed",
                actor=actor,
                subject=entry,
                points=entry.points,
                recipient_id=entry.recipient_id,
                reason=reason,
            )
    except IntegrityError as error:
        # Another administrator reversed it at the same moment (unique reversal_of_id).
        raise Conflict(_("This entry has already been reversed.")) from error
    return reversal


# ---- automatic points -------------------------------------------------------------


def _in_default_locale(message):
    """The stored reason of a system entry (pages show it in the reader's language)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(message)


def _add_system_entry(session, cause_key, **fields):
    """Insert once per cause_key; None when it exists (also after a concurrent insert)."""
    if session.scalar(select(PointEntry.id).where(PointEntry.cause_key == cause_key)):
        return None
    now = clock.now()
    try:
        with session.begin_nested():
            entry = PointEntry(created_at=now, counted_at=now, cause_key=cause_key, **fields)
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    summaries.record(session, entry)
    return entry


def points_for_helpful_article(article, voter, helpful, previous=None):
    """An article marked helpful by someone other than its author: +1 for the author,
    once per colleague and article, at most the monthly cap per article."""
    if not helpful or previous is True or voter is None:
        return None
    article_id = getattr(article, "id", None)
    author_id = getattr(article, "author_id", None)
    if article_id is None or author_id is None or author_id == voter.id:
        return None
    with write_transaction() as session:
        settings = get_settings(session)
        if not settings.helpful_enabled:
            return None
        author = _lock_user(session, author_id)
        if not access.may_receive_points(author):
            return None
        zone = user_zone(author)
        since = month_bounds(this_month(clock.now(), zone), zone)[0]
        so_far = session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.article_id == article_id,
                PointEntry.cause == Cause.ARTICLE_HELPFUL,
                PointEntry.counted_at >= since,
                _not_reversed(),
            )
        )
        points = settings.helpful_points
        if so_far + points > settings.helpful_monthly_cap:
            return None
        entry = _add_system_entry(
            session,
            f"helpful:{article_id}:{voter.id}",
            kind=Kind.AUTOMATIC,
            recipient_id=author.id,
            points=points,
            category=Category.KNOWLEDGE,
            reason=_in_default_locale(helpful_reason()),
            article_id=article_id,
            cause=Cause.ARTICLE_HELPFUL,
        )
        if entry is not None:
            notify(
                author,
                "points.article_helpful",
                link=_path("recognition.entry", entry_id=entry.id),
                points=points,
            )
    return entry


def points_for_won_customer(customer):
    """+10 for every active collaborator of a customer that became won, once per customer."""
    with write_transaction() as session:
        settings = get_settings(session)
        if not settings.won_enabled:
            return []
        earlier_win = select(PointEntry.id).where(
            PointEntry.customer_id == customer.id, PointEntry.cause == Cause.CUSTOMER_WON
        )
        if session.scalar(earlier_win.limit(1)) is not None:
            # Won again after a reopening: colleagues added meanwhile would get points
            # outside any budget, as often as the owner toggles the stage.
            return []
        users = session.scalars(
            select(User)
            .join(Collaborator, Collaborator.user_id == User.id)
            .where(Collaborator.customer_id == customer.id, Collaborator.status == CollaboratorStatus.ACTIVE)
            # Ascending ids: concurrent writers lock summary rows in the same order.
            .order_by(User.id)
        ).all()
        entries = []
        for user in users:
            # The owner's win is their own target; the points reward helping.
            if user.id == customer.owner_id or not access.may_receive_points(user):
                continue
            entry = _add_system_entry(
                session,
                f"won:{customer.id}:{user.id}",
                kind=Kind.AUTOMATIC,
                recipient_id=user.id,
                points=settings.won_points,
                category=Category.DEAL,
                reason=_in_default_locale(won_reason(customer.name)),
                customer_id=customer.id,
                cause=Cause.CUSTOMER_WON,
            )
            if entry is not None:
                notify(
                    user,
                    "points.customer_won",
                    link=_path("recognition.entry", entry_id=entry.id),
                    points=settings.won_points,
                    customer=customer.name,
                )
                entries.append(entry)
    return entries


# ---- leaderboard ------------------------------------------------------------------


@dataclass
class Standing:
    user_id: int
    name: str
    team: str
    team_id: int
    points: int
    reached_at: datetime | None
    rank: int = 0
    previous_rank: int | None = None
    badges: int = 0
    is_viewer: bool = False
    share: int = 0

    @property
    def movement(self):
        """Places gained (positive) or lost since the previous period; None when new."""
        return None if self.previous_rank is None else self.previous_rank - self.rank


@dataclass
class Board:
    period: Period
    previous: Period
    team: Team | None
    rows: list = field(default_factory=list)
    me: Standing | None = None
    me_in_rows: bool = False
    ranked: int = 0


_LATEST = datetime.max.replace(tzinfo=UTC)


def _members(session, team_id=None):
    query = (
        select(User.id, User.display_name, Team.name, Team.id)
        .join(Team, User.team_id == Team.id)
        .where(User.active.is_(True))
    )
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    rows = session.connection().execute(query)
    return {user_id: (name, team, its_team_id) for user_id, name, team, its_team_id in rows}


def rank(totals, members):
    """Competition ranking (1, 2, 2, 4) of members with points; equal totals are listed
    by who reached them first."""
    standings = [
        Standing(user_id, *members[user_id], points, reached_at)
        for user_id, (points, reached_at) in totals.items()
        if user_id in members and points > 0
    ]
    standings.sort(key=lambda s: (-s.points, s.reached_at or _LATEST, s.user_id))
    previous_points = None
    for position, standing in enumerate(standings, 1):
        if standing.points != previous_points:
            current_rank, previous_points = position, standing.points
        standing.rank = current_rank
    return standings


def standings(period, previous=None, team_id=None, session=None):
    session = session or db.session
    members = _members(session, team_id)
    current = rank(summaries.sums(session, period.start, period.end), members)
    if previous is not None:
        before = {
            s.user_id: s.rank
            for s in rank(summaries.sums(session, previous.start, previous.end, with_reached=False), members)
        }
        for standing in current:
            standing.previous_rank = before.get(standing.user_id)
    return current


def current_standings(viewer, team_id=None, period="month"):
    """This period's ranking (company-wide, or one team's) without the rank changes,
    badges and shares of the leaderboard page: for a glance at one's rank or a top
    five, at half the reads."""
    current, _previous = current_and_previous(period, clock.now(), user_zone(viewer))
    return standings(current, team_id=team_id)


def team_standings(company, team_id):
    """One team's ranking, taken from the company's: the same points, ranked among the
    team's people only."""
    team = [s for s in company if s.team_id == team_id]
    members = {s.user_id: (s.name, s.team, s.team_id) for s in team}
    return rank({s.user_id: (s.points, s.reached_at) for s in team}, members)


def leaderboard(viewer, period="month", team_id=None, limit=None):
    limit = limit or BOARD_LIMIT
    if period not in PERIODS:
        period = "month"
    team = None
    if team_id is not None:
        team = db.session.get(Team, team_id) if _is_id(team_id) else None
        if team is None:
            raise NotFound(_("This team does not exist."))
    current, previous = current_and_previous(period, clock.now(), user_zone(viewer))
    ranked = standings(current, previous, team.id if team else None)
    board = Board(current, previous, team, ranked=len(ranked))
    top_points = ranked[0].points if ranked else 0
    shown = {s.user_id for s in ranked if s.rank <= limit}
    badges = badge_counts()
    for standing in ranked:
        standing.is_viewer = standing.user_id == viewer.id
        standing.badges = badges.get(standing.user_id, 0)
        standing.share = round(100 * standing.points / top_points) if top_points else 0
        if standing.user_id in shown and len(board.rows) < 100:
            board.rows.append(standing)
        if standing.is_viewer:
            board.me = standing
    board.me_in_rows = board.me is not None and board.me in board.rows
    return board


def badge_counts():
    """{user_id: number of 协作之星 badges}; a few per month, so all of them."""
    query = select(StarBadge.user_id, func.count()).group_by(StarBadge.user_id)
    return dict(db.session.connection().execute(query).all())


# ---- people, feed, history --------------------------------------------------------


@dataclass
class Overview:
    total: int
    month_points: int
    month_rank: int | None
    by_category: list
    badges: list


def person_overview(person, viewer):
    session = db.session
    total = session.scalar(select(PointTotal.points).where(PointTotal.user_id == person.id)) or 0
    sums = dict(
        session.execute(
            select(PointEntry.category, func.sum(PointEntry.points))
            .where(PointEntry.recipient_id == person.id)
            .group_by(PointEntry.category)
        ).all()
    )
    by_category = [(Category(c), int(sums.get(c.value) or 0)) for c in Category]
    current, _previous = current_and_previous("month", clock.now(), user_zone(viewer))
    month = next((s for s in standings(current) if s.user_id == person.id), None)
    badges = session.scalars(
        select(StarBadge).where(StarBadge.user_id == person.id).order_by(StarBadge.month.desc())
    ).all()
    return Overview(total, month.points if month else 0, month.rank if month else None, by_category, badges)


def _entries_query():
    return select(PointEntry).options(
        joinedload(PointEntry.recipient).joinedload(User.team),
        joinedload(PointEntry.giver),
        joinedload(PointEntry.customer),
        selectinload(PointEntry.reversed_by),
    )


def _page(query, before):
    if _is_id(before):
        query = query.where(PointEntry.id < before)
    entries = db.session.scalars(query.order_by(PointEntry.id.desc()).limit(PAGE_SIZE + 1)).unique().all()
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return entries, (entries[-1].id if more else None)


FEED_KINDS = {"award": (Kind.AWARD,), "thanks": (Kind.THANKS,), None: (Kind.AWARD, Kind.THANKS)}


def feed(kind=None, before=None):
    """Awards and thanks, newest first: (entries, id to continue before or None)."""
    kinds = FEED_KINDS.get(kind, FEED_KINDS[None])
    return _page(_entries_query().where(PointEntry.kind.in_(kinds)), before)


def history(person, before=None):
    return _page(_entries_query().where(PointEntry.recipient_id == person.id), before)


# ---- 协作之星 -----------------------------------------------------------------------


def close_month(month=None, *, now=None):
    """Award the month's 协作之星 badges: the company's top three, ties included.

    Exactly once per month: the month_closings primary key refuses a second closing,
    also from another process at the same moment. Returns (closing, badges, closed_now);
    closed_now is False (and badges empty) when the month was closed already.
    """
    now = now or clock.now()
    zone = ZoneInfo(company_zone_name())
    month = month_start(month) if month else add_months(this_month(now, zone), -1)
    start, end = month_bounds(month, zone)
    if end > now:
        raise DomainError(_("%(month)s has not ended yet.", month=f"{month:%Y-%m}"))
    try:
        with write_transaction() as session:
            closing = session.get(MonthClosing, month)
            if closing is not None:
                return closing, [], False
            winners = [s for s in standings(Period("month", start, end), session=session) if s.rank <= 3]
            closing = MonthClosing(month=month, closed_at=now, badge_count=len(winners))
            session.add(closing)
            session.flush()
            badges = [
                StarBadge(user_id=s.user_id, month=month, rank=s.rank, points=s.points, awarded_at=now)
                for s in winners
            ]
            session.add_all(badges)
            session.flush()
            for badge in badges:
                notify(
                    badge.user_id,
                    "badge.awarded",
                    link=_path("recognition.person", user_id=badge.user_id),
                    dedupe_key=f"badge:{month:%Y-%m}:{badge.user_id}",
                    month=f"{month:%Y-%m}",
                    rank=badge.rank,
                )
    except IntegrityError:
        # Another process closed the month at the same moment.
        db.session.rollback()
        return db.session.get(MonthClosing, month), [], False
    return closing, badges, True


def due_months(now=None):
    """Ended months (at most a year back, from the first entry on) not closed yet."""
    now = now or clock.now()
    zone = ZoneInfo(company_zone_name())
    first = db.session.scalar(select(func.min(PointEntry.counted_at)))
    if first is None:
        return []
    current = this_month(now, zone)
    month = max(this_month(first, zone), add_months(current, -12))
    closed = set(db.session.scalars(select(MonthClosing.month).where(MonthClosing.month >= month)))
    due = []
    while month < current:
        if month not in closed:
            due.append(month)
        month = add_months(month, 1)
    return due


def close_due_months(now=None):
    now = now or clock.now()
    return [close_month(month, now=now) for month in due_months(now)]


@periodic("close-months")
def close_ended_months():
    """The app checks for ended months by itself (see jobs.py), cron may too."""
    return close_due_months()


# ---- mutual thanks report ----------------------------------------------------------


@dataclass
class Pair:
    first: str
    second: str
    first_id: int
    second_id: int
    there: int = 0
    back: int = 0
    points: int = 0
    ratio: float = 0.0
    flagged: bool = False

    @property
    def total(self):
        return self.there + self.back


@dataclass
class MutualReport:
    team: Team
    since: date
    days: int
    average: float
    pairs: list
    factor: int = MUTUAL_FACTOR
    min_each_way: int = MUTUAL_MIN_EACH_WAY


def report_teams(viewer):
    if access.sees_every_team(viewer):
        return db.session.scalars(select(Team).order_by(Team.name)).all()
    return [viewer.team] if viewer.team is not None else []


def mutual_thanks_report(viewer, team_id=None, days=90):
    """Pairs in a team who thank each other back and forth far more than the team's
    pairs do on average. Managers see their own team, administrators any team."""
    if not access.may_see_report(viewer):
        raise Forbidden(_("Only managers and administrators can see this report."))
    teams = report_teams(viewer)
    if team_id is None:
        team = teams[0] if teams else None
    else:
        team = db.session.get(Team, team_id) if _is_id(team_id) else None
        if team is None:
            raise NotFound(_("This team does not exist."))
        if team not in teams:
            raise Forbidden(_("Managers see the report of their own team only."))
    if team is None:
        raise NotFound(_("This team does not exist."))
    since = clock.now() - timedelta(days=days)
    members = dict(
        db.session.execute(select(User.id, User.display_name).where(User.team_id == team.id)).all()
    )
    counts = defaultdict(lambda: [0, 0])
    for giver_id, recipient_id, times, points in db.session.execute(
        select(PointEntry.giver_id, PointEntry.recipient_id, func.count(), func.sum(PointEntry.points))
        .where(
            PointEntry.kind == Kind.THANKS,
            PointEntry.counted_at >= since,
            PointEntry.giver_id.in_(list(members)),
            PointEntry.recipient_id.in_(list(members)),
            _not_reversed(),
        )
        .group_by(PointEntry.giver_id, PointEntry.recipient_id)
    ):
        counts[(giver_id, recipient_id)] = [times, int(points)]
    pairs = {}
    for (giver_id, recipient_id), (times, points) in counts.items():
        key = (min(giver_id, recipient_id), max(giver_id, recipient_id))
        pair = pairs.setdefault(key, Pair(members[key[0]], members[key[1]], *key))
        if giver_id == key[0]:
            pair.there += times
        else:
            pair.back += times
        pair.points += points
    total = sum(p.total for p in pairs.values())
    average = total / len(pairs) if pairs else 0.0
    mutual = [p for p in pairs.values() if p.there and p.back]
    for pair in mutual:
        # Against the other pairs: one busy pair must not hide itself by raising the average.
        others = len(pairs) - 1
        others_average = (total - pair.total) / others if others else 0.0
        pair.ratio = pair.total / others_average if others_average else 0.0
        pair.flagged = min(pair.there, pair.back) >= MUTUAL_MIN_EACH_WAY and pair.ratio >= MUTUAL_FACTOR
    mutual.sort(key=lambda p: (-p.flagged, -p.total, p.first_id, p.second_id))
    local_since = since.astimezone(user_zone(viewer)).date()
    return MutualReport(team, local_since, days, average, mutual), teams

"""Giving points: a manager's award and thanks between colleagues, each checked field by
field and against the giver's monthly budget in the transaction that inserts it.

Budgets hold under concurrency: on SQLite the write transaction holds the database's
write lock; on PostgreSQL the giver's user row is locked (FOR NO KEY UPDATE, which
does not block inserts referring to the user) before the budget is read.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..auth.models import Team, User
from ..auth.services import lock_user
from ..database import is_id, write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger.models import Customer
from ..notifications import link, notify, register_kinds
from . import access
from .budgets import budget, given_since
from .entries import add_entry, check_reason
from .models import CATEGORY_LABELS, Category, Kind
from .periods import user_zone, week_start
from .settings import get_settings, is_whole_number

register_kinds(
    {
        "points.received": _l("%(giver)s gave you %(points)s points: %(reason)s"),
        "points.thanked": _l("%(giver)s thanked you with %(points)s points: %(reason)s"),
    }
)


def get_customer(customer_id, session=None):
    """A customer that points may be linked to (not in the trash)."""
    session = session or db.session
    customer = session.get(Customer, customer_id) if is_id(customer_id) else None
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


@dataclass(frozen=True)
class _Way:
    """What tells an award from thanks: who may give, from which limits, what is said."""

    kind: Kind
    notification: str
    may_give: Callable
    refused: str
    max_points: Callable
    monthly_budget: Callable
    out_of_budget: str
    # Thanks only: how often one colleague may be thanked a week.
    weekly_per_colleague: Callable | None = None


_AWARD = _Way(
    Kind.AWARD,
    "points.received",
    access.may_award,
    _l("Only managers and administrators can award points."),
    lambda settings: settings.award_max_points,
    lambda settings: settings.award_monthly_budget,
    _l("Not enough budget: %(remaining)s of your %(budget)s points are left this month."),
)
_THANKS = _Way(
    Kind.THANKS,
    "points.thanked",
    lambda giver: giver.active,
    _l("You do not have permission to do this."),
    lambda settings: settings.thanks_max_points,
    lambda settings: settings.thanks_monthly_budget,
    _l("Not enough thanks left: %(remaining)s of your %(budget)s points are left this month."),
    lambda settings: settings.thanks_per_colleague_weekly,
)


def award_points(giver, *, recipient_id, points, category, reason, customer_id=None):
    """A manager's (or administrator's) award from their monthly budget."""
    return _give(_AWARD, giver, recipient_id, points, category, reason, customer_id)


def thank(giver, *, recipient_id, points, category, reason, customer_id=None):
    """Thanks between colleagues (感谢): a few points from a small monthly budget, a few
    times a week to the same colleague."""
    return _give(_THANKS, giver, recipient_id, points, category, reason, customer_id)


def _give(way, giver, recipient_id, points, category, reason, customer_id):
    """Check every field and limit in the giver's locked transaction, then write the
    entry with the recipient's notification."""
    with write_transaction() as session:
        giver = lock_user(session, giver.id)
        if not way.may_give(giver):
            raise Forbidden(str(way.refused))
        settings = get_settings(session)
        recipient = _recipient(session, recipient_id, giver)
        points = _check_points(points, way.max_points(settings))
        category = _check_category(category)
        reason = check_reason(reason)
        customer = get_customer(customer_id, session) if customer_id is not None else None
        left = budget(session, giver, way.kind, way.monthly_budget(settings))
        if points > left.remaining:
            raise DomainError(
                way.out_of_budget % {"remaining": left.remaining, "budget": left.budget}, field="points"
            )
        if way.weekly_per_colleague is not None:
            _check_weekly(session, giver, recipient, way.weekly_per_colleague(settings))
        entry = add_entry(
            session,
            kind=way.kind,
            recipient_id=recipient.id,
            giver_id=giver.id,
            points=points,
            category=category,
            reason=reason,
            customer_id=customer.id if customer else None,
        )
        notify(
            recipient,
            way.notification,
            link=link("recognition.entry", entry_id=entry.id),
            giver=giver.display_name,
            points=points,
            reason=reason,
        )
        return entry


def _check_weekly(session, giver, recipient, limit):
    week_began = week_start(clock.now(), user_zone(giver))
    _points, times = given_since(session, giver.id, Kind.THANKS, week_began, recipient.id)
    if times >= limit:
        raise DomainError(
            _(
                "You have thanked %(name)s %(count)s times this week; the limit is %(limit)s a week.",
                name=recipient.display_name,
                count=times,
                limit=limit,
            ),
            field="recipient_id",
        )


def _check_points(points, high):
    if not is_whole_number(points) or not 1 <= points <= high:
        raise DomainError(
            _("Points must be a whole number from %(low)s to %(high)s.", low=1, high=high), field="points"
        )
    return points


def _check_category(category):
    if category not in CATEGORY_LABELS:
        raise DomainError(_("Choose a category."), field="category")
    return Category(category)


def _recipient(session, recipient_id, giver):
    if recipient_id is None:
        raise DomainError(_("Choose a colleague."), field="recipient_id")
    recipient = session.get(User, recipient_id) if is_id(recipient_id) else None
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

"""Assignment (线索分配): a team's strategy picks the owner of its new leads, managers
assign and transfer customers by hand, administrators set strategies and territories."""

from collections import Counter

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from .. import audit, clock, settings, signals
from ..auth.models import Role, User
from ..database import write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger.models import Customer
from ..ledger.ownership import record_owner_change
from ..notifications import link, notify, register_kinds
from . import access
from .models import Strategy, TeamAssignment, Territory
from .ownership import end_collaborations
from .pool import active_counts

MAX_REASON = 500
MAX_CUSTOMERS = 500  # selected at once

audit.register_actions(
    {
        "rules.strategy_changed": _l("Assignment strategy changed"),
        "rules.territories_changed": _l("Territories changed"),
        "customer.assigned": _l("Customers assigned"),
    }
)
register_kinds({"customer.assigned": _l("%(actor)s assigned %(customer)s to you")})


def tell_new_owner(owner, customer, actor):
    notify(
        owner,
        "customer.assigned",
        link=link("ledger.show", customer_id=customer.id),
        actor=actor.display_name,
        customer=customer.name,
    )


def strategy_of(team_id):
    row = db.session.get(TeamAssignment, team_id) if team_id else None
    return Strategy(row.strategy) if row else Strategy.POOL


def _team_reps(team_id):
    return db.session.scalars(
        select(User)
        .where(User.team_id == team_id, User.role == Role.REP, User.active.is_(True))
        .order_by(User.id)
    ).all()


class _Picker:
    """Chooses owners for a team's new leads, one after another in one transaction."""

    def __init__(self, team_id):
        self.team_id = team_id
        self.strategy = strategy_of(team_id)
        self.rules = settings.current()
        self.reps = _team_reps(team_id) if team_id else []
        self.load = active_counts([rep.id for rep in self.reps]) if self.reps else Counter()
        self.row = (
            db.session.execute(
                select(TeamAssignment).where(TeamAssignment.team_id == team_id).with_for_update()
            ).scalar_one_or_none()
            if team_id
            else None
        )
        self.territories = {}
        if self.strategy == Strategy.TERRITORY:
            for territory in db.session.scalars(select(Territory).where(Territory.team_id == team_id)):
                self.territories[(territory.province, territory.city)] = territory.user

    def _available(self, rep):
        return rep.active and self.load[rep.id] < self.rules.max_active_per_rep

    def pick(self, customer):
        candidates = [rep for rep in self.reps if self._available(rep)]
        chosen = None
        if self.strategy == Strategy.ROUND_ROBIN and candidates:
            last = self.row.last_assigned_id or 0
            chosen = next((rep for rep in candidates if rep.id > last), candidates[0])
            self.row.last_assigned_id = chosen.id
        elif self.strategy == Strategy.LEAST_LOADED and candidates:
            chosen = min(candidates, key=lambda rep: (self.load[rep.id], rep.id))
        elif self.strategy == Strategy.TERRITORY:
            rep = self.territories.get((customer.province, customer.city)) or self.territories.get(
                (customer.province, "")
            )
            chosen = rep if rep is not None and self._available(rep) else None
        if chosen is not None:
            self.load[chosen.id] += 1
        return chosen


@signals.customers_need_owner.connect
def assign_by_strategy(actor, customers):
    """New customers without an owner: the team's strategy picks one (or the pool)."""
    pickers = {}
    for customer in customers:
        picker = pickers.get(customer.team_id) or pickers.setdefault(
            customer.team_id, _Picker(customer.team_id)
        )
        owner = picker.pick(customer)
        if owner is not None:
            record_owner_change(customer, owner, "assign", actor, note=str(picker.strategy.label))
            tell_new_owner(owner, customer, actor)


def assign(actor, customer_ids, user_id, reason):
    """Managers assign (from the pool) and transfer (from someone) within their team;
    admins anywhere. All the selected customers, or none."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the assignment."), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_("The reason is too long (at most 500 characters)."), field="reason")
    if not access.may_assign(actor):
        raise Forbidden(_("Only managers and administrators assign customers."))
    ids = sorted({int(customer_id) for customer_id in customer_ids})
    if not ids or len(ids) > MAX_CUSTOMERS:
        raise DomainError(_("Select 1 to 500 customers."))
    with write_transaction() as session:
        owner = session.get(User, user_id)
        if not access.may_transfer_to(owner):
            raise DomainError(_("Choose an active rep or manager."), field="user_id")
        if not access.may_assign_to(actor, owner):
            raise Forbidden(_("Managers assign customers within their own team."))
        customers = session.scalars(
            select(Customer).where(Customer.id.in_(ids), Customer.deleted_at.is_(None))
        ).all()
        if len(customers) != len(ids):
            raise NotFound(_("Some of the selected customers do not exist any more."))
        for customer in customers:
            if not access.may_assign_customer(actor, customer):
                raise Forbidden(_("%(name)s is not a customer of your team.", name=customer.name))
        moving = [customer for customer in customers if customer.owner_id != owner.id]
        for customer in moving:
            end_collaborations(customer, actor)
            record_owner_change(
                customer, owner, "assign" if customer.in_pool else "transfer", actor, note=reason
            )
            customer.updated_at = clock.now()
            tell_new_owner(owner, customer, actor)
        audit.record(
            "customer.assigned", actor=actor, subject=owner, customers=[c.id for c in moving], reason=reason
        )
    return moving


def set_strategy(actor, team_id, strategy):
    if not access.may_change_rules(actor):
        raise Forbidden(_("Only administrators change the rules."))
    try:
        strategy = Strategy(strategy)
    except ValueError:
        raise DomainError(_("Choose one of the offered values."), field="strategy") from None
    with write_transaction() as session:
        row = session.get(TeamAssignment, team_id) or TeamAssignment(team_id=team_id)
        before = row.strategy
        row.strategy = strategy
        session.add(row)
        if before != strategy:
            audit.record(
                "rules.strategy_changed", actor=actor, team_id=team_id, changes=[before, strategy.value]
            )


def territories(team_ids):
    """These teams' territories, team by team, as the settings page lists them."""
    return db.session.scalars(
        select(Territory)
        .where(Territory.team_id.in_(team_ids))
        .options(joinedload(Territory.user))
        .order_by(Territory.team_id, Territory.province, Territory.city)
    ).all()


def territory_rows(provinces, cities, user_ids):
    """[(province, city, user_id)] from the territory table's posted columns. A row
    without a rep ("—") or without a province is dropped; a forged rep is refused."""
    if not len(provinces) == len(cities) == len(user_ids):
        # The page sends every row whole; a column left out would have dropped every row.
        raise DomainError(_("Each territory row needs a province, a city and a rep."), field="territories")
    rows = []
    for province, city, user_id in zip(provinces, cities, user_ids, strict=True):
        province = province.strip()[: Territory.province.type.length]
        city = city.strip()[: Territory.city.type.length]
        if province and user_id and not user_id.isdecimal():
            raise DomainError(_("A territory goes to an active rep of the team."), field="territories")
        if province and user_id:
            rows.append((province, city, int(user_id)))
    return rows


def set_territories(actor, team_id, rows):
    """Replace a team's territories with [(province, city, user_id)]."""
    if not access.may_change_rules(actor):
        raise Forbidden(_("Only administrators change the rules."))
    with write_transaction() as session:
        members = {user.id for user in _team_reps(team_id)}
        seen = set()
        for province, city, user_id in rows:
            if user_id not in members:
                raise DomainError(_("A territory goes to an active rep of the team."), field="territories")
            if (province, city) in seen:
                raise DomainError(
                    _("%(region)s is listed twice.", region=f"{province} {city}".strip()), field="territories"
                )
            seen.add((province, city))
        session.execute(delete(Territory).where(Territory.team_id == team_id))
        session.add_all(Territory(team_id=team_id, province=p, city=c, user_id=u) for p, c, u in rows)
        audit.record(
            "rules.territories_changed", actor=actor, team_id=team_id, territories=[list(r) for r in rows]
        )

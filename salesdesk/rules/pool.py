"""The public pool (公海): claiming a customer within the limits (active customers held,
claims a day, the cooldown after giving one up) and releasing one with a reason."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import clock, settings
from ..auth.services import lock_user
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger import access as ledger_access
from ..ledger.models import Customer, OwnershipChange, Stage
from ..ledger.ownership import record_owner_change
from . import access
from .ownership import end_collaborations
from .reclaim import RECLAIM_REASONS

MAX_REASON = 500


def _day_start(user, now):
    """Midnight today in the user's time zone, as UTC."""
    zone = ZoneInfo(user.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(), tzinfo=zone).astimezone(now.tzinfo)


def active_counts(user_ids):
    """How many open customers (neither won nor lost) each of these people holds."""
    rows = db.session.execute(
        select(Customer.owner_id, func.count())
        .where(
            Customer.owner_id.in_(user_ids),
            Customer.stage.not_in([Stage.WON, Stage.LOST]),
            Customer.deleted_at.is_(None),
        )
        .group_by(Customer.owner_id)
    ).all()
    return Counter(dict(rows))


def active_count(user):
    return active_counts([user.id])[user.id]


def claims_today(user, now):
    return db.session.scalar(
        select(func.count())
        .select_from(OwnershipChange)
        .where(
            OwnershipChange.to_user_id == user.id,
            OwnershipChange.reason == "claim",
            OwnershipChange.at >= _day_start(user, now),
        )
    )


@dataclass(frozen=True)
class ClaimStanding:
    """Where a seller stands against the pool's limits, shown where they claim:
    "今日已领 2/20 · 保有 118/200"."""

    claimed_today: int
    claims_per_day: int
    held: int
    max_held: int

    @property
    def at_limit(self):
        """The next claim would be refused (check_can_hold_more says why)."""
        return self.claimed_today >= self.claims_per_day or self.held >= self.max_held


def claim_standing(user, now=None):
    """The counts check_can_hold_more compares with the limits, for `user` now."""
    rules = settings.current()
    now = now or clock.now()
    return ClaimStanding(
        claimed_today=claims_today(user, now),
        claims_per_day=rules.claims_per_day,
        held=active_count(user),
        max_held=rules.max_active_per_rep,
    )


def cooldown_until(customer, user, rules, now):
    """Until when `user` may not claim back a customer they gave up, or None."""
    last = db.session.scalar(
        select(func.max(OwnershipChange.at)).where(
            OwnershipChange.customer_id == customer.id,
            OwnershipChange.from_user_id == user.id,
            OwnershipChange.reason.in_(("release", *RECLAIM_REASONS)),
        )
    )
    if last is not None and last + timedelta(days=rules.cooldown_days) > now:
        return last + timedelta(days=rules.cooldown_days)
    return None


def _taken_message(customer, actor):
    if customer.owner_id == actor.id:
        return _("You own this customer already.")
    return _("Already claimed by %(name)s.", name=customer.owner.display_name if customer.owner else "?")


def check_can_hold_more(user, rules, now, claiming=True):
    held = active_count(user)
    if held >= rules.max_active_per_rep:
        raise Conflict(
            _(
                "You hold %(count)s active customers; the limit is %(limit)s. Release or close some first.",
                count=held,
                limit=rules.max_active_per_rep,
            )
        )
    if claiming:
        claimed = claims_today(user, now)
        if claimed >= rules.claims_per_day:
            raise Conflict(
                _(
                    "You have claimed %(count)s customers today; the daily limit is %(limit)s.",
                    count=claimed,
                    limit=rules.claims_per_day,
                )
            )


def claim(actor, customer_id):
    """领取: one atomic conditional update; the limits are checked in the same transaction."""
    if not access.may_claim(actor):
        raise Forbidden(_("Only sales reps and managers claim customers."))
    rules = settings.current()
    now = clock.now()
    with write_transaction() as session:
        lock_user(session, actor.id)
        customer = session.get(Customer, customer_id)
        if customer is None or customer.deleted_at is not None:
            raise NotFound(_("This customer does not exist or was deleted."))
        if not access.may_claim(actor, customer):
            raise Conflict(_taken_message(customer, actor))
        until = cooldown_until(customer, actor, rules, now)
        if until is not None:
            raise Conflict(
                _(
                    "You gave this customer up recently; you can claim it again from %(date)s.",
                    date=format_date(until, "long"),
                )
            )
        check_can_hold_more(actor, rules, now)
        won = session.execute(
            update(Customer)
            .where(Customer.id == customer.id, Customer.in_pool, Customer.deleted_at.is_(None))
            .values(owner_id=actor.id, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            session.refresh(customer)  # someone else's claim committed first
            raise Conflict(_taken_message(customer, actor))
        customer.owner_id = None  # the history row records "from the pool"
        end_collaborations(customer, actor)  # any left from before: nobody inherits them
        record_owner_change(customer, actor, "claim", actor, at=now)
        customer.updated_at = now
    return customer


def release(actor, customer_id, reason):
    """Give a customer back to the pool, with a reason (owner, their manager, admins)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why you release this customer."), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_("The reason is too long (at most 500 characters)."), field="reason")
    with write_transaction():
        customer = ledger_access.get_customer_for(actor, customer_id)
        if not access.may_release(actor, customer):
            raise Forbidden(_("Only the owner, their manager or an administrator releases a customer."))
        end_collaborations(customer, actor)
        record_owner_change(customer, None, "release", actor, note=reason)
        customer.updated_at = clock.now()
    return customer

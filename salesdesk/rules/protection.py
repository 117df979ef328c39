"""Protection periods (保护期): when an owned customer returns to the pool and which rule
fires, kept on the customer row whenever it changes and recomputed after a settings
change. Pages show the countdown through `RuleSettings.countdown`."""

from datetime import timedelta

from sqlalchemy import select, update

from .. import settings, signals
from ..extensions import db
from ..ledger.models import Customer, Stage

# Rows per statement when many customers change at once (settings, reclaim).
BATCH = 1000


def deadline(customer, rules):
    """(when it returns to the pool, which rule fires), or (None, None) for a pool or
    won customer. customer: a Customer, or a row of its columns (recompute_all, the
    bench's seed), hence `owner_id is None` rather than `in_pool`."""
    if customer.owner_id is None or customer.stage == Stage.WON or customer.deleted_at is not None:
        return None, None
    follow_days, deal_days = rules.periods_for(customer.grade)
    since = customer.owned_since or customer.created_at
    extra = timedelta(days=customer.extension_days or 0)
    # Only follow-ups during this ownership count: a fresh claim gets a full period.
    followed = max(customer.last_follow_up_at or since, since)
    by_follow_up = followed + timedelta(days=follow_days) + extra
    by_deal = since + timedelta(days=deal_days) + extra
    if by_follow_up <= by_deal:
        return by_follow_up, "reclaim_no_follow_up"
    return by_deal, "reclaim_no_deal"


@signals.customer_changed.connect
def refresh_protection(customer, **_kwargs):
    customer.reclaim_at, customer.reclaim_rule = deadline(customer, settings.current())


def recompute_all(rules=None):
    """Every owned customer's reclaim date under the current settings (after a change)."""
    rules = rules or settings.current()
    session = db.session
    columns = (
        Customer.id,
        Customer.owner_id,
        Customer.stage,
        Customer.deleted_at,
        Customer.grade,
        Customer.owned_since,
        Customer.created_at,
        Customer.last_follow_up_at,
        Customer.extension_days,
    )
    last_id = 0
    while True:
        rows = session.execute(
            select(*columns)
            .where(Customer.id > last_id, ~Customer.in_pool)
            .order_by(Customer.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        updates = []
        for row in rows:
            at, rule = deadline(row, rules)
            updates.append({"id": row.id, "reclaim_at": at, "reclaim_rule": rule})
        session.execute(update(Customer), updates)
        last_id = rows[-1].id

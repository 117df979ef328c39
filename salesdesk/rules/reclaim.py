"""Reclaim (回收): owners are warned once when a customer enters the warning window, and
overdue customers return to the public pool, the rule that fired recorded."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, or_, select, update

from .. import clock, settings
from ..database import write_transaction
from ..jobs import periodic
from ..ledger.models import Collaborator, CollaboratorEvent, Customer, OwnershipChange, Stage
from ..notifications import Notification, link, register_kinds, with_dates
from .protection import BATCH

RECLAIM_REASONS = ("reclaim_no_follow_up", "reclaim_no_deal")
RULE_LABELS = {
    "reclaim_no_follow_up": _l("no follow-up in time"),
    "reclaim_no_deal": _l("not won in time"),
}

register_kinds(
    {
        "reclaim.warning": with_dates(
            _l("%(customer)s returns to the public pool on %(date)s unless you act"), "date"
        ),
        "reclaim.done": lambda p: _(
            "%(customer)s returned to the public pool: %(rule)s",
            customer=p["customer"],
            rule=RULE_LABELS[p["rule_code"]],
        ),
    }
)


def _due(now):
    return (
        Customer.reclaim_at <= now,
        ~Customer.in_pool,
        Customer.stage != Stage.WON,
        Customer.deleted_at.is_(None),
    )


def reclaim_due(now=None):
    """Return every overdue customer to the pool: one history row and one notification
    each, the rule that fired recorded. Idempotent and safe to run in several
    processes at once: a customer moves only with the conditional update that wins."""
    now = now or clock.now()
    moved = 0
    while True:
        with write_transaction() as session:
            rows = session.execute(
                select(Customer.id, Customer.owner_id, Customer.reclaim_rule, Customer.name)
                .where(*_due(now))
                .order_by(Customer.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return moved
            ids = [row.id for row in rows]
            session.execute(
                update(Customer)
                .where(Customer.id.in_(ids), *_due(now))
                .values(
                    owner_id=None,
                    owned_since=None,
                    reclaim_at=None,
                    reclaim_rule=None,
                    extension_days=0,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            session.execute(
                insert(OwnershipChange),
                [
                    {
                        "customer_id": row.id,
                        "from_user_id": row.owner_id,
                        "to_user_id": None,
                        "reason": row.reclaim_rule,
                        "actor_id": None,
                        "at": now,
                        "note": "",
                    }
                    for row in rows
                ],
            )
            collaborations = session.execute(
                select(Collaborator.customer_id, Collaborator.user_id).where(
                    Collaborator.customer_id.in_(ids)
                )
            ).all()
            if collaborations:
                session.execute(
                    insert(CollaboratorEvent),
                    [
                        {
                            "customer_id": c.customer_id,
                            "user_id": c.user_id,
                            "action": "removed",
                            "actor_id": None,
                            "at": now,
                        }
                        for c in collaborations
                    ],
                )
                session.execute(delete(Collaborator).where(Collaborator.customer_id.in_(ids)))
            session.execute(
                insert(Notification),
                [
                    {
                        "user_id": row.owner_id,
                        "kind": "reclaim.done",
                        "link": link("ledger.show", customer_id=row.id),
                        "created_at": now,
                        "params": {"customer": row.name, "rule_code": row.reclaim_rule},
                    }
                    for row in rows
                ],
            )
            moved += len(rows)


def warn_due(now=None):
    """Warn owners once per deadline when a customer enters the warning window."""
    now = now or clock.now()
    with write_transaction() as session:
        rows = session.execute(
            select(Customer.id, Customer.owner_id, Customer.name, Customer.reclaim_at).where(
                Customer.reclaim_at > now,  # overdue ones are reclaimed, not warned about
                Customer.reclaim_at <= settings.current().reclaim_horizon(now),
                ~Customer.in_pool,
                Customer.deleted_at.is_(None),
                or_(
                    Customer.reclaim_warned_for.is_(None), Customer.reclaim_warned_for != Customer.reclaim_at
                ),
            )
        ).all()
        if not rows:
            return 0
        session.execute(
            insert(Notification),
            [
                {
                    "user_id": row.owner_id,
                    "kind": "reclaim.warning",
                    "link": link("ledger.show", customer_id=row.id),
                    "created_at": now,
                    "params": {"customer": row.name, "date": row.reclaim_at.date().isoformat()},
                }
                for row in rows
            ],
        )
        session.execute(
            update(Customer), [{"id": row.id, "reclaim_warned_for": row.reclaim_at} for row in rows]
        )
    return len(rows)


@periodic("reclaim")
def run_reclaim():
    """The periodic job (and `flask salesdesk reclaim`): warn, then reclaim."""
    return warn_due(), reclaim_due()

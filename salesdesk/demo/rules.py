"""Demo activity for the rules, played through the real services: claims from the pool
(some long enough ago that the customer is about to return), duplicates the ledger
blocked, an open collision report and a collaboration request, so that every panel of
the workbench has something true to show."""

import random
from contextlib import suppress
from datetime import timedelta

from sqlalchemy import select

from .. import clock, settings
from ..auth.models import User
from ..errors import DomainError
from ..extensions import db
from ..ledger import collaborators, duplicates
from ..ledger.models import Customer, Stage
from ..rules import collisions, pool
from ..rules.models import CollisionReport
from .company import DOMAIN
from .words import COLLABORATION_MESSAGE, COLLISION_REASON, TEAMS


def seed():
    if db.session.scalar(select(CollisionReport.id).limit(1)) is not None:
        return
    users = {
        user.email.split("@")[0]: user
        for user in db.session.scalars(select(User).where(User.email.like(f"%@{DOMAIN}")))
    }
    if "li.na" not in users:
        return  # the accounts demo did not run
    rng = random.Random(20261122)
    with clock.at(clock.now()):
        for team in TEAMS.values():
            reps = [users[login] for login, _name in team["reps"]]
            # The senior reps hold a customer about to return; the newer ones claimed today.
            for rep in reps[:2]:
                _claim_from_pool(rep, rng, near_reclaim=True)
            for rep in reps[2:]:
                _claim_from_pool(rep, rng, near_reclaim=False)
            for rep in rng.sample(reps, 2):
                _blocked_duplicate(rep, rng)
        _file_collision(users["zhang.wei"], users["li.na"])
        _file_collision(users["wu.junjie"], users["lin.xiaoyan"])
        _request_collaboration(users["liu.yang"], users["li.na"])


def _pool_customers(rep, before):
    return db.session.scalars(
        select(Customer)
        .where(
            Customer.in_pool,
            Customer.deleted_at.is_(None),
            Customer.team_id == rep.team_id,
            Customer.created_at < before,
        )
        .order_by(Customer.id)
    ).all()


def _claim_from_pool(rep, rng, near_reclaim):
    """A claim today, or one far enough back that, with no follow-up since, the
    customer returns to the pool within the warning window."""
    now = clock.now()
    rules = settings.current()
    candidates = _pool_customers(rep, now - timedelta(days=60))
    if not candidates:
        return
    customer = rng.choice(candidates)
    if near_reclaim:
        follow_days, _deal_days = rules.periods_for(customer.grade)
        days_left = rng.uniform(0.5, max(rules.warning_days - 0.5, 0.6))
        clock.set_now(now - timedelta(days=follow_days - days_left))
    with suppress(DomainError):
        pool.claim(rep, customer.id)
    clock.set_now(now)


def _blocked_duplicate(rep, rng):
    """A rep types in a customer the ledger already has: the check blocks it."""
    existing = rng.choice(
        db.session.scalars(
            select(Customer).where(Customer.deleted_at.is_(None), Customer.name_key.is_not(None)).limit(200)
        ).all()
    )
    report = duplicates.check_duplicates(
        name_key=existing.name_key, credit_code=None, phone_keys=[], email_keys=[], with_similar=False
    )
    if report.blocking:
        duplicates.record_blocked_duplicate(rep, report)


def _owned_by(owner):
    return db.session.scalars(
        select(Customer)
        .where(Customer.owner_id == owner.id, Customer.stage != Stage.WON, Customer.deleted_at.is_(None))
        .order_by(Customer.id)
    ).all()


def _file_collision(reporter, owner):
    customers = _owned_by(owner)
    if customers:
        with suppress(DomainError):
            collisions.file_collision(reporter, customers[-1].id, COLLISION_REASON)


def _request_collaboration(requester, owner):
    customers = _owned_by(owner)
    if customers:
        with suppress(DomainError):
            collaborators.request_collaboration(requester, customers[0].id, COLLABORATION_MESSAGE)

"""The public pool on the services: claiming within the limits and the cooldown, and
releasing with a reason."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from salesdesk.errors import Conflict, DomainError, Forbidden, NotFound
from salesdesk.extensions import db
from salesdesk.ledger.models import Collaborator, OwnershipChange
from salesdesk.rules import pool
from salesdesk.rules.settings import update_settings
from salesdesk.settings import DEFAULTS
from tests.fixtures.ledger import make_customer

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def at_ten(frozen_clock):
    frozen_clock(NOW)


@pytest.fixture
def pooled(world):
    return [make_customer(world.manager_a, f"公海{n}号贸易有限公司", pool=True) for n in range(3)]


def set_rules(world, **values):
    update_settings(world.admin, {**DEFAULTS, **values}, {})


def reasons(customer):
    return db.session.scalars(
        select(OwnershipChange.reason)
        .where(OwnershipChange.customer_id == customer.id)
        .order_by(OwnershipChange.id)
    ).all()


class TestClaim:
    def test_a_rep_claims_a_pool_customer(self, world, pooled):
        customer = pool.claim(world.rep_a, pooled[0].id)
        assert customer.owner_id == world.rep_a.id and not customer.in_pool
        assert reasons(customer)[-1] == "claim"
        assert customer.reclaim_at == NOW + timedelta(days=DEFAULTS["follow_up_days"])
        assert pool.claims_today(world.rep_a, NOW) == 1 and pool.active_count(world.rep_a) == 1

    def test_only_one_owner(self, world, pooled):
        pool.claim(world.rep_a, pooled[0].id)
        with pytest.raises(Conflict):
            pool.claim(world.rep_a2, pooled[0].id)
        with pytest.raises(Conflict):
            pool.claim(world.rep_a, pooled[0].id)

    def test_only_sellers_claim(self, world, pooled):
        for user in (world.support_a, world.admin):
            with pytest.raises(Forbidden):
                pool.claim(user, pooled[0].id)

    def test_a_missing_or_deleted_customer_is_not_found(self, world):
        trashed = make_customer(world.admin, "回收站客户有限公司", pool=True, deleted=True)
        for customer_id in (trashed.id, 999_999):
            with pytest.raises(NotFound):
                pool.claim(world.rep_a, customer_id)

    def test_the_daily_limit(self, world, pooled):
        set_rules(world, claims_per_day=2)
        pool.claim(world.rep_a, pooled[0].id)
        pool.claim(world.rep_a, pooled[1].id)
        with pytest.raises(Conflict):
            pool.claim(world.rep_a, pooled[2].id)
        assert pooled[2].in_pool

    def test_the_daily_limit_counts_from_local_midnight(self, world, pooled, frozen_clock):
        frozen_clock(datetime(2026, 6, 9, 15, 30, tzinfo=UTC))  # 23:30 in Shanghai: yesterday
        pool.claim(world.rep_a, pooled[0].id)
        frozen_clock(datetime(2026, 6, 9, 16, 30, tzinfo=UTC))  # 00:30 in Shanghai: today
        pool.claim(world.rep_a, pooled[1].id)
        assert pool.claims_today(world.rep_a, NOW) == 1

    def test_the_limit_on_active_customers(self, world, pooled):
        set_rules(world, max_active_per_rep=1)
        make_customer(world.rep_a, "已有客户有限公司")
        with pytest.raises(Conflict):
            pool.claim(world.rep_a, pooled[0].id)
        pool.check_can_hold_more(world.rep_a2, pool.settings.current(), NOW)  # others may

    def test_won_and_lost_customers_are_not_active(self, world):
        make_customer(world.rep_a, "赢单客户有限公司", stage="won")
        make_customer(world.rep_a, "输单客户有限公司", stage="lost")
        make_customer(world.rep_a, "跟进客户有限公司")
        assert pool.active_count(world.rep_a) == 1
        assert pool.active_counts([world.rep_a.id, world.rep_a2.id]) == {world.rep_a.id: 1}

    def test_the_cooldown_after_giving_a_customer_up(self, world, pooled, frozen_clock):
        pool.claim(world.rep_a, pooled[0].id)
        pool.release(world.rep_a, pooled[0].id, "没有预算")
        with pytest.raises(Conflict):
            pool.claim(world.rep_a, pooled[0].id)
        pool.claim(world.rep_a2, pooled[1].id)  # someone else's release is no cooldown for them
        frozen_clock(NOW + timedelta(days=DEFAULTS["cooldown_days"], seconds=1))
        assert pool.claim(world.rep_a, pooled[0].id).owner_id == world.rep_a.id


class TestRelease:
    @pytest.mark.parametrize("reason", ["", "   ", "长" * (pool.MAX_REASON + 1)])
    def test_a_reason_is_required_and_bounded(self, world, reason):
        customer = make_customer(world.rep_a)
        with pytest.raises(DomainError) as refused:
            pool.release(world.rep_a, customer.id, reason)
        assert refused.value.field == "reason" and not customer.in_pool

    def test_the_owner_releases_and_collaborators_leave(self, world):
        customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
        released = pool.release(world.rep_a, customer.id, "客户已转型")
        assert released.in_pool and released.reclaim_at is None
        assert reasons(released)[-1] == "release"
        assert (
            db.session.scalars(select(Collaborator).where(Collaborator.customer_id == customer.id)).all()
            == []
        )

    def test_not_someone_else(self, world):
        customer = make_customer(world.rep_a)
        with pytest.raises(Forbidden):
            pool.release(world.rep_a2, customer.id, "想要")
        assert pool.release(world.manager_a, customer.id, "重新分配").in_pool

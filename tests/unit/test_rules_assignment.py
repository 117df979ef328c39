"""Assignment on the services: managers assign and transfer within their team, a team's
strategy picks the owner of new leads, and a deactivated user hands everything over."""

import pytest
from sqlalchemy import select

from salesdesk.auth import services as accounts
from salesdesk.errors import DomainError, Forbidden, NotFound
from salesdesk.extensions import db
from salesdesk.ledger import customers, ownership, validation
from salesdesk.ledger.models import Collaborator, OwnershipChange
from salesdesk.rules import assignment
from salesdesk.rules.models import Strategy
from tests.fixtures.ledger import make_customer


def last_reason(customer):
    return db.session.scalars(
        select(OwnershipChange.reason)
        .where(OwnershipChange.customer_id == customer.id)
        .order_by(OwnershipChange.id.desc())
    ).first()


def new_lead(world, name, **fields):
    return customers.create_customer(
        world.manager_a, validation.CustomerInput(name=name, **fields), owner_id=ownership.AUTO
    )


class TestAssign:
    def test_from_the_pool_is_an_assignment_from_someone_a_transfer(self, world):
        pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
        owned = make_customer(world.rep_a, "转移客户有限公司", collaborators=[world.support_a])
        moved = assignment.assign(world.manager_a, [pooled.id, owned.id], world.rep_a2.id, "平衡团队客户量")
        assert {c.id for c in moved} == {pooled.id, owned.id}
        assert (last_reason(pooled), last_reason(owned)) == ("assign", "transfer")
        assert (
            db.session.scalars(select(Collaborator).where(Collaborator.customer_id == owned.id)).all() == []
        )

    @pytest.mark.parametrize("reason", ["", "长" * (assignment.MAX_REASON + 1)])
    def test_a_reason_is_required_and_bounded(self, world, reason):
        owned = make_customer(world.rep_a)
        with pytest.raises(DomainError) as refused:
            assignment.assign(world.manager_a, [owned.id], world.rep_a2.id, reason)
        assert refused.value.field == "reason"

    def test_within_the_team_all_or_nothing(self, world):
        mine = make_customer(world.rep_a, "本队客户有限公司")
        theirs = make_customer(world.rep_b, "别队客户有限公司")
        with pytest.raises(Forbidden):
            assignment.assign(world.manager_a, [mine.id], world.rep_b.id, "x")
        with pytest.raises(Forbidden):
            assignment.assign(world.manager_a, [mine.id, theirs.id], world.rep_a2.id, "x")
        assert mine.owner_id == world.rep_a.id
        with pytest.raises(Forbidden):
            assignment.assign(world.rep_a, [mine.id], world.rep_a2.id, "x")
        assignment.assign(world.admin, [theirs.id], world.rep_a2.id, "跨区调整")
        assert theirs.owner_id == world.rep_a2.id

    def test_only_to_a_seller_and_only_existing_customers(self, world):
        mine = make_customer(world.rep_a)
        with pytest.raises(DomainError):
            assignment.assign(world.manager_a, [mine.id], world.support_a.id, "x")
        with pytest.raises(NotFound):
            assignment.assign(world.manager_a, [mine.id, 999_999], world.rep_a2.id, "x")
        with pytest.raises(DomainError):
            assignment.assign(
                world.manager_a, list(range(1, assignment.MAX_CUSTOMERS + 2)), world.rep_a2.id, "x"
            )


class TestStrategies:
    def test_the_pool_by_default(self, world):
        assert assignment.strategy_of(world.team_a.id) == Strategy.POOL
        assert new_lead(world, "新线索有限公司").in_pool

    def test_round_robin(self, world):
        assignment.set_strategy(world.admin, world.team_a.id, "round_robin")
        owners = [new_lead(world, f"轮流{n}号有限公司").owner_id for n in range(3)]
        assert owners == [world.rep_a.id, world.rep_a2.id, world.rep_a.id]

    def test_territory_falls_back_to_the_pool(self, world):
        assignment.set_strategy(world.admin, world.team_a.id, "territory")
        assignment.set_territories(world.admin, world.team_a.id, [("浙江", "", world.rep_a.id)])
        assert new_lead(world, "宁波客户有限公司", province="浙江", city="宁波").owner_id == world.rep_a.id
        assert new_lead(world, "广州客户有限公司", province="广东", city="广州").in_pool

    def test_only_admins_set_strategies_and_territories_go_to_the_team(self, world):
        with pytest.raises(Forbidden):
            assignment.set_strategy(world.manager_a, world.team_a.id, "round_robin")
        with pytest.raises(DomainError):
            assignment.set_strategy(world.admin, world.team_a.id, "bogus")
        with pytest.raises(DomainError):
            assignment.set_territories(world.admin, world.team_a.id, [("浙江", "", world.rep_b.id)])
        twice = [("浙江", "", world.rep_a.id), ("浙江", "", world.rep_a2.id)]
        with pytest.raises(DomainError):
            assignment.set_territories(world.admin, world.team_a.id, twice)


def test_a_deactivated_owner_hands_everything_to_the_successor(world):
    owned = make_customer(world.rep_a)
    accounts.deactivate_user(world.rep_a, actor=world.admin, successor=world.rep_a2)
    assert owned.owner_id == world.rep_a2.id and last_reason(owned) == "user_deactivated"


def test_territory_rows_are_read_from_the_posted_columns():
    long_province = "省" * 40
    rows = assignment.territory_rows(
        [" 浙江 ", "", long_province, "江苏"], ["杭州", "宁波", "", " "], ["7", "8", "9", ""]
    )
    # A row without a province or without a rep is dropped; text is trimmed to the columns.
    assert rows == [("浙江", "杭州", 7), ("省" * 20, "", 9)]
    with pytest.raises(DomainError):
        assignment.territory_rows(["浙江"], ["杭州"], ["-1"])
    with pytest.raises(DomainError):
        assignment.territory_rows(["浙江", "江苏"], ["杭州"], ["7", "8"])

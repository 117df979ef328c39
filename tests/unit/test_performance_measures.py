"""What counts toward a target (salesdesk/performance/measures.py), and the board's other
figures built on the same history (board.collect, funnel): each definition on a small
known history, with the edges that decide who gets the credit and in which period."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.ledger.customers import change_stage
from salesdesk.ledger.followups import log_follow_up
from salesdesk.ledger.models import Customer, FollowUp, OwnershipChange
from salesdesk.ledger.trash import delete_customer
from salesdesk.performance import board, funnel, measures, periods
from salesdesk.performance.models import Measure
from salesdesk.rules import assignment, pool
from tests.fixtures.ledger import make_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.parse("2026-11", None)
DECEMBER = periods.parse("2026-12", None)
JANUARY = periods.parse("2027-01", None)


def local(year, month, day, hour=10, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _late_clock(frozen_clock):
    # Everything below happened before "now": mid-January 2027 in Shanghai.
    frozen_clock(local(2027, 1, 15))


def created(actor, name, when, **fields):
    with clock.at(when):
        return make_customer(actor, name, **fields)


def set_stage(actor, customer, stage, when):
    db.session.expire_all()
    version = db.session.get(Customer, customer.id).version
    with clock.at(when):
        change_stage(actor, customer.id, stage, version)


def won(world, user, period):
    figures = measures.progress([user], period)[user.id]
    return figures[Measure.WON_COUNT], figures[Measure.WON_AMOUNT]


def test_a_win_counts_in_its_period_for_the_owner_with_the_amount(world):
    customer = created(
        world.rep_a, "苏州恒达精密机械有限公司", local(2026, 11, 2), expected_amount="120000.50"
    )
    set_stage(world.rep_a, customer, "won", local(2026, 11, 10))
    assert won(world, world.rep_a, NOVEMBER) == (1, Decimal("120000.50"))
    assert won(world, world.rep_a, DECEMBER) == (0, Decimal("0.00"))
    assert won(world, world.rep_a2, NOVEMBER) == (0, Decimal("0.00"))


def test_a_reopened_deal_leaves_the_period_and_counts_when_won_again(world):
    customer = created(world.rep_a, "杭州云栖数据科技有限公司", local(2026, 11, 2), expected_amount="5000")
    set_stage(world.rep_a, customer, "won", local(2026, 11, 10))
    set_stage(world.rep_a, customer, "negotiating", local(2026, 11, 12))
    assert won(world, world.rep_a, NOVEMBER) == (0, Decimal("0.00"))
    set_stage(world.rep_a, customer, "won", local(2026, 12, 3))
    assert won(world, world.rep_a, NOVEMBER) == (0, Decimal("0.00"))
    assert won(world, world.rep_a, DECEMBER) == (1, Decimal("5000.00"))


def test_the_last_second_of_december_in_shanghai_is_december_there(world):
    last_second = created(world.rep_a, "上海浦江贸易有限公司", local(2026, 12, 1), expected_amount="100")
    new_year = created(world.rep_a, "南京金陵电子有限公司", local(2026, 12, 1), expected_amount="200")
    set_stage(world.rep_a, last_second, "won", local(2026, 12, 31, 23, 59, 59))
    set_stage(world.rep_a, new_year, "won", local(2027, 1, 1, 0, 0, 0))
    # 23:59:59 in Shanghai is 15:59:59 UTC: still December there.
    assert db.session.get(Customer, last_second.id).won_at == datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
    assert won(world, world.rep_a, DECEMBER) == (1, Decimal("100.00"))
    assert won(world, world.rep_a, JANUARY) == (1, Decimal("200.00"))
    assert won(world, world.rep_a, periods.parse("2026-Q4", None)) == (1, Decimal("100.00"))
    assert won(world, world.rep_a, periods.parse("2026", None)) == (1, Decimal("100.00"))


def test_a_customer_transferred_after_the_win_credits_the_owner_at_the_win(world):
    customer = created(world.rep_a, "无锡太湖环保科技有限公司", local(2026, 11, 2), expected_amount="800")
    set_stage(world.rep_a, customer, "won", local(2026, 11, 10))
    with clock.at(local(2026, 11, 20)):
        assignment.assign(world.manager_a, [customer.id], world.rep_a2.id, "张三调岗")
    assert db.session.get(Customer, customer.id).owner_id == world.rep_a2.id
    assert won(world, world.rep_a, NOVEMBER) == (1, Decimal("800.00"))
    assert won(world, world.rep_a2, NOVEMBER) == (0, Decimal("0.00"))


def test_trashed_customers_count_for_nobody(world):
    customer = created(world.rep_a, "宁波港城物流有限公司", local(2026, 11, 2), expected_amount="900")
    set_stage(world.rep_a, customer, "won", local(2026, 11, 10))
    with clock.at(local(2026, 11, 11)):
        delete_customer(world.manager_a, customer.id)
    assert won(world, world.rep_a, NOVEMBER) == (0, Decimal("0.00"))
    assert measures.progress([world.rep_a], NOVEMBER)[world.rep_a.id][Measure.NEW_CUSTOMERS] == 0


def test_new_customers_created_imported_or_claimed_count_once_each(world):
    created(world.rep_a, "常州龙城纺织有限公司", local(2026, 11, 3))
    imported = created(world.rep_a, "嘉兴南湖食品有限公司", local(2026, 11, 4))
    # The same customer created and then recorded as imported: still one customer.
    db.session.add(
        OwnershipChange(
            customer_id=imported.id, to_user_id=world.rep_a.id, reason="import", at=local(2026, 11, 4, 11)
        )
    )
    db.session.commit()
    pooled = created(world.manager_a, "绍兴兰亭酒业有限公司", local(2026, 11, 5), pool=True)
    with clock.at(local(2026, 11, 6)):
        pool.claim(world.rep_a, pooled.id)
    with clock.at(local(2026, 11, 7)):
        pool.release(world.rep_a, pooled.id, "客户暂无需求")
    # Claimed again later in the month (as after an admin's override of the cool-down).
    db.session.add(
        OwnershipChange(
            customer_id=pooled.id, to_user_id=world.rep_a.id, reason="claim", at=local(2026, 11, 28)
        )
    )
    db.session.commit()
    # Created last month: not new in November.
    created(world.rep_a, "湖州太湖丝绸有限公司", local(2026, 10, 30))
    figures = measures.progress([world.rep_a, world.manager_a], NOVEMBER)
    assert figures[world.rep_a.id][Measure.NEW_CUSTOMERS] == 3
    # The manager put one in the pool: a pool customer is nobody's new customer.
    assert figures[world.manager_a.id][Measure.NEW_CUSTOMERS] == 0
    rows = board.collect([world.rep_a], [], NOVEMBER)
    assert rows[world.rep_a.id].parts["claims"] == 2


def test_follow_ups_and_visits_count_by_when_they_happened_in_the_teams_zone(world):
    customer = created(world.rep_a, "合肥科大讯联有限公司", local(2026, 11, 2))
    other = created(world.rep_a, "芜湖长江汽配有限公司", local(2026, 11, 2))
    for when, channel, target in (
        (local(2026, 11, 30, 23, 30), "visit", customer),  # 15:30 UTC, November in Shanghai
        (local(2026, 12, 1, 0, 10), "phone", customer),  # 30 November 16:10 UTC: December there
        (local(2026, 11, 15), "wechat", other),
        (local(2026, 11, 16), "visit", other),
    ):
        log_follow_up(world.rep_a, target.id, channel=channel, content="沟通方案", occurred_at=when)
    november = measures.progress([world.rep_a], NOVEMBER)[world.rep_a.id]
    december = measures.progress([world.rep_a], DECEMBER)[world.rep_a.id]
    assert (november[Measure.FOLLOW_UPS], november[Measure.VISITS]) == (3, 2)
    assert (december[Measure.FOLLOW_UPS], december[Measure.VISITS]) == (1, 0)
    parts = board.collect([world.rep_a], [], DECEMBER)[world.rep_a.id]
    # The board reads the same: December, and November as the previous period.
    assert (parts.parts["follow_ups"], parts.parts["phone"], parts.parts["customers_touched"]) == (1, 1, 1)
    assert (parts.previous["follow_ups"], parts.previous["visits"], parts.previous["wechat"]) == (3, 2, 1)
    assert parts.previous["customers_touched"] == 2


def test_customers_touched_count_each_customer_once_a_period_even_when_backdated(world):
    customer = created(world.rep_a, "嘉兴南湖电子有限公司", local(2026, 10, 20))
    for when in (local(2026, 11, 20), local(2026, 12, 5), local(2026, 12, 5), local(2026, 12, 9)):
        log_follow_up(world.rep_a, customer.id, channel="phone", content="跟进报价", occurred_at=when)
    # Logged late, between two: the 20 November one is no longer the first of November.
    log_follow_up(
        world.rep_a, customer.id, channel="visit", content="补记拜访", occurred_at=local(2026, 11, 3)
    )
    # Another person's follow-ups of the customer are theirs: they touch it too.
    log_follow_up(
        world.manager_a, customer.id, channel="phone", content="经理回访", occurred_at=local(2026, 12, 6)
    )
    rows = board.collect([world.rep_a, world.manager_a], [], DECEMBER)
    rep, manager = rows[world.rep_a.id], rows[world.manager_a.id]
    assert (rep.parts["follow_ups"], rep.parts["customers_touched"]) == (3, 1)
    assert (rep.previous["follow_ups"], rep.previous["customers_touched"]) == (2, 1)
    assert (manager.parts["follow_ups"], manager.parts["customers_touched"]) == (1, 1)
    previous = db.session.execute(
        select(FollowUp.occurred_at, FollowUp.previous_at)
        .where(FollowUp.author_id == world.rep_a.id)
        .order_by(FollowUp.occurred_at, FollowUp.id)
    ).all()
    moments = [
        local(2026, 11, 3),
        local(2026, 11, 20),
        local(2026, 12, 5),
        local(2026, 12, 5),
        local(2026, 12, 9),
    ]
    assert previous == list(zip(moments, [None, *moments[:-1]], strict=True))


def test_win_rate_average_deal_and_cycle_from_first_ownership(world):
    first = created(world.rep_a, "厦门鹭岛船舶有限公司", local(2026, 11, 1), expected_amount="1000")
    second = created(world.rep_a, "福州闽江茶业有限公司", local(2026, 11, 5), expected_amount="3000")
    lost = created(world.rep_a, "泉州刺桐鞋业有限公司", local(2026, 11, 5))
    set_stage(world.rep_a, first, "won", local(2026, 11, 11))  # 10 days after creation
    set_stage(world.rep_a, second, "won", local(2026, 11, 25))  # 20 days
    set_stage(world.rep_a, lost, "lost", local(2026, 11, 26))
    row = board.collect([world.rep_a], [], NOVEMBER)[world.rep_a.id]
    assert board.value_of(row.parts, "won_count") == 2
    assert board.value_of(row.parts, "win_rate") == Decimal(200) / 3
    assert board.value_of(row.parts, "average_deal") == Decimal("2000.00")
    assert board.value_of(row.parts, "average_cycle") == pytest.approx(Decimal(15))
    assert board.value_of(row.previous, "win_rate") is None


def test_the_funnel_counts_what_was_reached_and_the_days_in_each_stage(world):
    one = created(world.rep_a, "郑州中原重工有限公司", local(2026, 11, 2))
    two = created(world.rep_a, "洛阳牡丹机电有限公司", local(2026, 11, 2))
    created(world.rep_b, "广州珠江电器有限公司", local(2026, 11, 2))  # another team
    set_stage(world.rep_a, one, "contacted", local(2026, 11, 6))  # 4 days a lead
    set_stage(world.rep_a, one, "quoted", local(2026, 11, 16))  # 10 days contacted
    set_stage(world.rep_a, two, "contacted", local(2026, 11, 4))  # 2 days a lead
    result = funnel.funnel(world.team_a.id, world.team_a.timezone, False, NOVEMBER)
    reached = {step.stage.value: step.reached for step in result.steps}
    assert reached == {"lead": 2, "contacted": 2, "qualified": 1, "quoted": 1, "negotiating": 0, "won": 0}
    steps = {step.stage.value: step for step in result.steps}
    assert steps["qualified"].conversion == 50
    assert steps["lead"].median_days == pytest.approx(3, abs=0.01)
    assert steps["contacted"].median_days == pytest.approx(10, abs=0.01)
    assert steps["quoted"].median_days is None
    company = funnel.funnel(None, None, True, NOVEMBER)
    assert company.steps[0].reached == 3

"""Milestones (50 %, 100 %) of a person's targets: announced to the person and their
team's managers once each — however often, and by however many processes, the job runs —
and never for people without targets."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from salesdesk import jobs
from salesdesk.auth.models import User
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.ledger import followups
from salesdesk.notifications import Notification
from salesdesk.performance import milestones
from salesdesk.performance.models import Milestone, Target
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import local

HALF, WHOLE = milestones.KINDS[50], milestones.KINDS[100]
NOW = local(2026, 3, 10, 10)  # Tuesday 10 March 2026, Shanghai


@pytest.fixture
def march(world, frozen_clock):
    frozen_clock(NOW)
    return world


def set_target(user, measure, value, period="2026-03"):
    with write_transaction() as session:
        existing = session.scalar(
            select(Target).where(
                Target.period == period, Target.user_id == user.id, Target.measure == measure
            )
        )
        if existing is not None:
            existing.value = Decimal(value)
        else:
            session.add(
                Target(
                    period=period,
                    team_id=user.team_id,
                    user_id=user.id,
                    measure=measure,
                    value=Decimal(value),
                )
            )


def win(user, name, amount="10000"):
    return make_customer(user, name, stage="won", expected_amount=amount)


def told(kind=None):
    """(recipient, kind, person's user_id, measure, period) of every milestone notification."""
    db.session.rollback()
    query = select(Notification).where(Notification.kind.in_(list(milestones.KINDS.values())))
    if kind:
        query = query.where(Notification.kind == kind)
    return sorted(
        (n.user_id, n.kind, n.params["user_id"], n.params["measure"], n.params["period"])
        for n in db.session.scalars(query)
    )


def recorded():
    db.session.rollback()
    return sorted(
        db.session.execute(
            select(Milestone.period, Milestone.user_id, Milestone.measure, Milestone.percent)
        ).all()
    )


def test_half_then_whole_announced_once_each_to_the_person_and_the_manager(march):
    world = march
    set_target(world.rep_a, "won_count", 2)
    assert milestones.announce_milestones() == 0  # nothing won yet

    win(world.rep_a, "苏州恒达精密机械有限公司")
    assert milestones.announce_milestones() == 1
    assert milestones.announce_milestones() == 0, "run again: nothing new"
    assert told() == sorted(
        (recipient.id, HALF, world.rep_a.id, "won_count", "2026-03")
        for recipient in (world.rep_a, world.manager_a)
    )

    win(world.rep_a, "无锡华光电子有限公司")
    assert milestones.announce_milestones() == 1
    assert milestones.announce_milestones() == 0
    assert told(WHOLE) == sorted(
        (recipient.id, WHOLE, world.rep_a.id, "won_count", "2026-03")
        for recipient in (world.rep_a, world.manager_a)
    )
    assert len(told(HALF)) == 2, "the half is not announced again"
    assert recorded() == [
        ("2026-03", world.rep_a.id, "won_count", 50),
        ("2026-03", world.rep_a.id, "won_count", 100),
    ]


def test_the_message_and_the_link(march, app):
    world = march
    set_target(world.rep_a, "visits", 2)
    customer = make_customer(world.rep_a, "常州天和医疗器械有限公司")
    followups.log_follow_up(world.rep_a, customer.id, channel="visit", content="上门拜访")
    milestones.announce_milestones()
    notification = db.session.scalar(select(Notification).where(Notification.user_id == world.manager_a.id))
    assert notification.link == f"/performance/reps/{world.rep_a.id}?period=2026-03"
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("en"):
            assert notification.message == "张三 reached 50% of the Visits target for 3/2026"


def test_a_jump_past_both_announces_the_whole_target_alone(march):
    world = march
    set_target(world.rep_a, "won_amount", "50000")
    win(world.rep_a, "杭州云栖数据科技有限公司", amount="80000.00")
    assert milestones.announce_milestones() == 1
    assert {kind for _user, kind, *_rest in told()} == {WHOLE}
    assert [percent for *_key, percent in recorded()] == [50, 100], (
        "both recorded: the half never comes later"
    )


def test_nobody_without_targets_hears_anything(march):
    world = march
    set_target(world.rep_a, "won_count", 10)  # far away
    set_target(world.rep_a2, "won_count", 0)  # a zero target has no milestones
    for index in range(3):
        win(world.rep_a2, f"李四的客户{index}有限公司")
        win(world.rep_b, f"王五的客户{index}有限公司")
    assert milestones.announce_milestones() == 0
    assert told() == [] and recorded() == []


def test_deactivated_people_and_other_periods_are_left_alone(march, frozen_clock):
    world = march
    set_target(world.rep_a, "won_count", 1, period="2026-02")  # a closed month
    set_target(world.rep_b, "won_count", 1)
    db.session.execute(update(User).where(User.id == world.rep_b.id).values(active=False))
    db.session.commit()
    win(world.rep_a, "苏州恒达精密机械有限公司")
    win(world.rep_b, "深圳市南方鑫材料有限公司")
    assert milestones.announce_milestones() == 0
    # The manager of team B is told about team B's people only, and rep A's February
    # target does not count March's deal.
    assert told() == []


def test_a_raised_target_does_not_announce_the_same_milestone_again(march):
    world = march
    set_target(world.rep_a, "won_count", 2)
    win(world.rep_a, "苏州恒达精密机械有限公司")
    assert milestones.announce_milestones() == 1
    set_target(world.rep_a, "won_count", 4)  # now at 25 %
    win(world.rep_a, "无锡华光电子有限公司")  # 50 % of the new target
    assert milestones.announce_milestones() == 0
    assert len(told(HALF)) == 2
    win(world.rep_a, "常州天和医疗器械有限公司")
    win(world.rep_a, "南通海润医药连锁有限公司")
    assert milestones.announce_milestones() == 1 and len(told(WHOLE)) == 2


def test_a_quarter_with_its_own_target_has_milestones_a_quarter_of_months_none(march):
    world = march
    set_target(world.rep_a, "won_count", 4, period="2026-Q1")
    set_target(
        world.rep_a2, "won_count", 10, period="2026-01"
    )  # the quarter sums months: no quarter milestones
    set_target(world.rep_a2, "won_count", 10, period="2026-02")
    set_target(world.manager_a, "won_count", 2, period="2026")
    win(world.rep_a, "苏州恒达精密机械有限公司")
    win(world.rep_a, "无锡华光电子有限公司")
    for index in range(5):
        win(world.rep_a2, f"李四的客户{index}有限公司")
    win(world.manager_a, "常州天和医疗器械有限公司")
    assert milestones.announce_milestones() == 2
    assert told() == sorted(
        [
            (world.rep_a.id, HALF, world.rep_a.id, "won_count", "2026-Q1"),
            (world.manager_a.id, HALF, world.rep_a.id, "won_count", "2026-Q1"),
            # A manager with a target of their own is told once.
            (world.manager_a.id, HALF, world.manager_a.id, "won_count", "2026"),
        ]
    )


def test_the_current_month_is_the_teams_local_month(march, frozen_clock):
    world = march
    set_target(world.rep_a, "won_count", 1, period="2026-04")
    frozen_clock(local(2026, 3, 31, 23, 59))  # still March in Shanghai (15:59 UTC)
    win(world.rep_a, "苏州恒达精密机械有限公司")
    frozen_clock(local(2026, 4, 1, 0, 1))
    assert milestones.announce_milestones() == 0, "March's deal is not April's"
    win(world.rep_a, "无锡华光电子有限公司")
    assert milestones.announce_milestones() == 1
    assert told(WHOLE)[0][4] == "2026-04"


def test_two_processes_at_once_announce_each_milestone_once(march, make_app):
    world = march
    set_target(world.rep_a, "won_count", 1)
    set_target(world.rep_a2, "follow_ups", 2)
    win(world.rep_a, "苏州恒达精密机械有限公司")
    customer = make_customer(world.rep_a2, "无锡华光电子有限公司")
    followups.log_follow_up(world.rep_a2, customer.id, channel="phone", content="电话沟通")
    db.session.commit()
    apps = [make_app() for _index in range(4)]
    barrier = threading.Barrier(len(apps))
    results, errors = [], []

    def run(other):
        with other.app_context():
            try:
                barrier.wait()
                results.append(milestones.announce_milestones())
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(other,)) for other in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(results) == 2  # rep_a's 100 % (50 % recorded with it), rep_a2's 50 %
    assert len(told(WHOLE)) == 2 and len(told(HALF)) == 2
    assert len(recorded()) == 3


def test_the_periodic_job_runs_every_five_minutes(march, frozen_clock):
    world = march
    interval, function = jobs.JOBS["performance-milestones"]
    assert interval == timedelta(minutes=5) and function is milestones.run_milestones
    set_target(world.rep_a, "won_count", 1)
    win(world.rep_a, "苏州恒达精密机械有限公司")
    jobs.run_if_leased("performance-milestones")
    assert len(told(WHOLE)) == 2

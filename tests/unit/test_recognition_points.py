"""The rules of giving points, tested on the services: who may give, budgets, limits,
reversals, and the append-only ledger."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from salesdesk.audit import AuditEvent
from salesdesk.auth import services as accounts
from salesdesk.errors import Conflict, DomainError, Forbidden, NotFound
from salesdesk.extensions import db
from salesdesk.notifications import Notification
from salesdesk.recognition import badges, budgets, giving, leaderboard, settings
from salesdesk.recognition.entries import reverse_entry
from salesdesk.recognition.models import Kind, PointEntry, RecognitionSettings
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import (
    assert_summaries_exact,
    award,
    award_at,
    entry_count,
    local,
    order,
    points_of,
    thank,
)

pytestmark = pytest.mark.usefixtures("mid_november")


def refused(call, message, error=DomainError):
    with pytest.raises(error) as caught:
        call()
    assert caught.value.message == message
    return caught.value


# ---- awards -------------------------------------------------------------------------


def test_a_manager_awards_points_and_the_recipient_is_notified(world):
    entry = award(world.manager_a, world.rep_a, 20, reason="帮忙准备了苏州恒达的报价方案", category="deal")
    assert (entry.kind, entry.points, entry.category) == ("award", 20, "deal")
    assert (entry.giver_id, entry.recipient_id) == (world.manager_a.id, world.rep_a.id)
    assert entry.reason == "帮忙准备了苏州恒达的报价方案"
    notification = db.session.scalars(
        select(Notification).where(Notification.user_id == world.rep_a.id)
    ).one()
    assert notification.kind == "points.received"
    assert notification.link == f"/recognition/entries/{entry.id}"
    assert notification.message == "王经理 奖励了你 20 积分：帮忙准备了苏州恒达的报价方案"


def test_administrators_may_award_too(world):
    assert award(world.admin, world.rep_b, 50).points == 50


@pytest.mark.parametrize("role", ["rep_a", "rep_b", "support_a"])
def test_reps_and_support_cannot_award(world, role):
    refused(
        lambda: award(getattr(world, role), world.rep_a2), "只有销售经理和管理员可以奖励积分。", Forbidden
    )
    assert entry_count() == 0


def test_nobody_gives_points_to_themselves(world):
    refused(lambda: award(world.manager_a, world.manager_a), "不能给自己积分。")
    refused(lambda: thank(world.rep_a, world.rep_a), "不能给自己积分。")
    assert entry_count() == 0


@pytest.mark.parametrize("points", [0, -5, 51, 10**20, "10", 2.5, True, None])
def test_an_award_is_a_whole_number_from_1_to_50(world, points):
    refused(lambda: award(world.manager_a, world.rep_a, points), "积分必须是 1 到 50 之间的整数。")
    assert entry_count() == 0


def test_the_monthly_budget_is_500_and_cannot_be_overspent(world):
    for _ in range(9):
        award(world.manager_a, world.rep_a, 50)
    award(world.manager_a, world.rep_a2, 30)
    assert budgets.award_budget(world.manager_a).remaining == 20
    refused(lambda: award(world.manager_a, world.rep_b, 21), "预算不足：本月 500 积分预算只剩 20。")
    award(world.manager_a, world.rep_b, 20)
    refused(lambda: award(world.manager_a, world.rep_b, 1), "预算不足：本月 500 积分预算只剩 0。")
    # Each manager has a budget of their own.
    award(world.manager_b, world.rep_b, 50)
    assert points_of(world.rep_a) + points_of(world.rep_a2) + points_of(world.rep_b) == 550


def test_the_budget_month_follows_the_managers_time_zone(world):
    # 23:30 on 30 November in Shanghai is still November there (15:30 UTC).
    for _ in range(10):
        award_at(local(2026, 11, 30, 23, 30), world.manager_a, world.rep_a, 50)
    refused(lambda: award(world.manager_a, world.rep_a, 1), "预算不足：本月 500 积分预算只剩 0。")
    # Half an hour later it is December in Shanghai: a fresh budget.
    award_at(local(2026, 12, 1, 0, 0), world.manager_a, world.rep_a, 50)
    assert budgets.award_budget(world.manager_a).spent == 50


def test_a_reversed_award_gives_its_points_back_to_the_budget(world):
    entries = [award(world.manager_a, world.rep_a, 50) for _ in range(10)]
    reverse_entry(world.admin, entries[0].id, reason="重复发放")
    assert budgets.award_budget(world.manager_a).remaining == 50
    award(world.manager_a, world.rep_a, 50)


def test_a_reason_is_required_and_limited(world):
    refused(lambda: award(world.manager_a, world.rep_a, reason="   "), "请填写理由。")
    refused(lambda: award(world.manager_a, world.rep_a, reason=None), "请填写理由。")
    refused(lambda: award(world.manager_a, world.rep_a, reason="很" * 501), "理由最多 500 个字符。")
    assert award(world.manager_a, world.rep_a, reason="  好  ").reason == "好"


def test_the_category_must_be_known(world):
    refused(lambda: award(world.manager_a, world.rep_a, category="bribe"), "请选择类别。")
    refused(lambda: award(world.manager_a, world.rep_a, category=None), "请选择类别。")


def test_the_recipient_must_be_an_active_team_member(world):
    refused(
        lambda: giving.award_points(
            world.manager_a, recipient_id=None, points=5, category="other", reason="x"
        ),
        "请选择同事。",
    )
    refused(
        lambda: giving.award_points(
            world.manager_a, recipient_id=999_999, points=5, category="other", reason="x"
        ),
        "该同事不存在。",
        NotFound,
    )
    refused(
        lambda: giving.award_points(
            world.manager_a, recipient_id="3", points=5, category="other", reason="x"
        ),
        "该同事不存在。",
        NotFound,
    )
    refused(lambda: award(world.manager_a, world.admin), "只有团队成员可以接收积分。")
    accounts.deactivate_user(world.rep_a2, actor=world.admin)
    refused(lambda: award(world.manager_a, world.rep_a2), "李四 已停用，不能接收积分。")
    assert entry_count() == 0


def test_an_award_links_a_customer_that_exists(world):
    customer = make_customer(world.rep_a)
    entry = award(world.manager_a, world.rep_a, customer_id=customer.id)
    assert entry.customer_id == customer.id
    refused(lambda: award(world.manager_a, world.rep_a, customer_id=999_999), "该客户不存在。", NotFound)
    trashed = make_customer(world.admin, "已删除的客户", pool=True, deleted=True)
    refused(lambda: award(world.manager_a, world.rep_a, customer_id=trashed.id), "该客户不存在。", NotFound)
    assert entry_count() == 1


def test_a_deactivated_manager_cannot_award(world):
    accounts.deactivate_user(world.manager_a, actor=world.admin)
    refused(lambda: award(world.manager_a, world.rep_a), "只有销售经理和管理员可以奖励积分。", Forbidden)


# ---- thanks -------------------------------------------------------------------------


@pytest.mark.parametrize("points", [0, 6, -1, "3", None])
def test_thanks_are_1_to_5_points(world, points):
    refused(lambda: thank(world.rep_a, world.rep_a2, points), "积分必须是 1 到 5 之间的整数。")


def test_everyone_may_thank_a_colleague(world):
    for giver in (world.rep_a, world.support_a, world.manager_b, world.admin):
        entry = thank(giver, world.rep_a2, 5)
        assert entry.kind == "thanks"
    notification = db.session.scalars(
        select(Notification).where(Notification.user_id == world.rep_a2.id)
    ).first()
    assert notification.kind == "points.thanked" and "感谢了你" in notification.message


def test_thanks_come_from_a_monthly_budget_of_20(world):
    for colleague in (world.rep_a2, world.support_a, world.manager_a, world.rep_b):
        thank(world.rep_a, colleague, 5)
    refused(lambda: thank(world.rep_a, world.manager_b, 1), "感谢额度不足：本月 20 积分额度只剩 0。")
    assert budgets.thanks_budget(world.rep_a).remaining == 0


def test_unused_thanks_do_not_carry_over(world, frozen_clock):
    frozen_clock(local(2026, 10, 15))
    thank(world.rep_a, world.rep_a2, 1)  # 19 left unused in October
    frozen_clock(local(2026, 11, 18))
    for colleague in (world.rep_a2, world.support_a, world.manager_a, world.rep_b):
        thank(world.rep_a, colleague, 5)
    refused(lambda: thank(world.rep_a, world.manager_b, 1), "感谢额度不足：本月 20 积分额度只剩 0。")


def test_the_same_colleague_at_most_twice_a_week(world, frozen_clock):
    thank(world.rep_a, world.rep_a2, 1)
    thank(world.rep_a, world.rep_a2, 1)
    refused(lambda: thank(world.rep_a, world.rep_a2, 1), "你本周已感谢 李四 2 次，每周上限为 2 次。")
    thank(world.rep_a, world.support_a, 1)  # someone else is fine
    thank(world.rep_a2, world.rep_a, 1)  # and so is the other direction
    # Sunday 23:30 is still this week; Monday 00:00 is the next one.
    frozen_clock(local(2026, 11, 22, 23, 30))
    refused(lambda: thank(world.rep_a, world.rep_a2, 1), "你本周已感谢 李四 2 次，每周上限为 2 次。")
    frozen_clock(local(2026, 11, 23, 0, 0))
    thank(world.rep_a, world.rep_a2, 1)


def test_a_reversed_thanks_does_not_count_against_the_weekly_limit(world):
    first = thank(world.rep_a, world.rep_a2, 1)
    thank(world.rep_a, world.rep_a2, 1)
    reverse_entry(world.admin, first.id, reason="误操作")
    thank(world.rep_a, world.rep_a2, 1)


# ---- settings -----------------------------------------------------------------------


def settings_values(**changes):
    defaults = RecognitionSettings.defaults()
    values = {name: getattr(defaults, name) for name in RecognitionSettings.FIELDS}
    return {**values, **changes}


def test_administrators_change_the_limits(world):
    settings.update_settings(world.admin, **settings_values(award_max_points=80, thanks_max_points=3))
    assert award(world.manager_a, world.rep_a, 80).points == 80
    refused(lambda: thank(world.rep_a, world.rep_a2, 4), "积分必须是 1 到 3 之间的整数。")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recognition.settings")).one()
    assert event.details["changes"]["award_max_points"] == [50, 80]


def test_only_administrators_change_settings_and_only_to_sane_values(world):
    refused(
        lambda: settings.update_settings(world.manager_a, **settings_values()),
        "只有管理员可以修改积分设置。",
        Forbidden,
    )
    error = refused(
        lambda: settings.update_settings(world.admin, **settings_values(award_max_points=0)),
        "请输入 1 到 10000 之间的整数。",
    )
    assert error.field == "award_max_points"
    refused(
        lambda: settings.update_settings(world.admin, **settings_values(won_enabled="yes")),
        "请选择开启或关闭。",
    )
    assert settings.get_settings().award_max_points == 50


# ---- reversal -----------------------------------------------------------------------


def test_an_administrator_reverses_an_entry_and_totals_and_ranks_follow(world):
    mistaken = award(world.manager_a, world.rep_a, 50)
    award(world.manager_a, world.rep_a2, 30)
    assert order(world.rep_a) == [("张三", 1, 50), ("李四", 2, 30)]
    reversal = reverse_entry(world.admin, mistaken.id, reason="重复发放，予以撤销")
    assert (reversal.kind, reversal.points, reversal.reversal_of_id) == ("reversal", -50, mistaken.id)
    assert reversal.counted_at == mistaken.counted_at
    assert points_of(world.rep_a) == 0
    assert order(world.rep_a) == [("李四", 1, 30)]
    assert leaderboard.leaderboard(world.rep_a, "all").me is None
    # The original stays, marked as reversed; nothing was edited.
    assert db.session.get(PointEntry, mistaken.id).reversed_by.id == reversal.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "points.reversed")).one()
    assert event.subject_id == mistaken.id and event.details["reason"] == "重复发放，予以撤销"
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == world.rep_a.id)).all()
    assert kinds == ["points.received", "points.reversed"]
    assert_summaries_exact()


def test_reversal_is_for_administrators_with_a_reason_and_only_once(world):
    entry = award(world.manager_a, world.rep_a, 10)
    refused(
        lambda: reverse_entry(world.manager_a, entry.id, reason="x"),
        "只有管理员可以撤销积分。",
        Forbidden,
    )
    refused(lambda: reverse_entry(world.admin, entry.id, reason=" "), "请填写理由。")
    refused(lambda: reverse_entry(world.admin, 999_999, reason="x"), "该积分记录不存在。", NotFound)
    reversal = reverse_entry(world.admin, entry.id, reason="误发")
    refused(
        lambda: reverse_entry(world.admin, entry.id, reason="再撤一次"),
        "该记录已被撤销过。",
        Conflict,
    )
    refused(
        lambda: reverse_entry(world.admin, reversal.id, reason="撤销撤销"),
        "撤销记录本身不能再被撤销。",
        Conflict,
    )
    assert entry_count() == 2


# ---- the ledger is append-only in the database ---------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE point_entries SET points = 500",
        "DELETE FROM point_entries",
        "UPDATE star_badges SET rank = 1",
        "DELETE FROM month_closings",
    ],
)
def test_the_database_refuses_to_edit_history(world, statement, frozen_clock):
    frozen_clock(local(2026, 10, 15))
    award(world.manager_a, world.rep_a, 10)
    frozen_clock(local(2026, 11, 18))
    badges.close_month()
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert points_of(world.rep_a) == 10


def test_the_database_refuses_a_positive_reversal_or_an_empty_reason(world):
    entry = award(world.manager_a, world.rep_a, 10)
    db.session.commit()
    for values in (
        {"kind": "reversal", "points": 10, "reversal_of_id": entry.id, "reason": "x"},
        {"kind": "award", "points": -10, "reversal_of_id": None, "reason": "x"},
        {"kind": "award", "points": 10, "reversal_of_id": None, "reason": ""},
    ):
        with pytest.raises(DBAPIError):
            db.session.execute(
                PointEntry.__table__.insert().values(
                    recipient_id=world.rep_a.id,
                    giver_id=world.admin.id,
                    category="other",
                    created_at=entry.created_at,
                    counted_at=entry.created_at,
                    **values,
                )
            )
        db.session.rollback()
    assert entry_count() == 1


def test_kinds_are_labelled(world):
    entry = award(world.manager_a, world.rep_a, 10)
    assert str(entry.kind_label) == "奖励" and str(entry.category_label) == "协作跟进"
    assert Kind(entry.kind) is Kind.AWARD

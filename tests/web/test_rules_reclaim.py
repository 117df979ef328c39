"""Protection periods and reclaim (保护期与回收), warnings, extensions (延期申请), and the
periodic job that runs without cron."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from salesdesk import audit, jobs, settings
from salesdesk.extensions import db
from salesdesk.ledger import collaborators, customers, followups
from salesdesk.ledger.models import Collaborator, Customer, OwnershipChange
from salesdesk.notifications import Notification
from salesdesk.rules import extensions, reclaim
from salesdesk.rules.settings import update_settings
from tests.fixtures.ledger import make_customer
from tests.fixtures.rules import rule_settings_form

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def owned(world, frozen_clock):
    frozen_clock(T0)
    return make_customer(world.rep_a, "苏州恒达精密机械有限公司", phone="13812345678")


def notifications(user, kind):
    db.session.rollback()
    return db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
    ).all()


def history(customer):
    db.session.rollback()
    return db.session.execute(
        select(OwnershipChange.reason, OwnershipChange.from_user_id, OwnershipChange.to_user_id)
        .where(OwnershipChange.customer_id == customer.id)
        .order_by(OwnershipChange.id)
    ).all()


def test_deadline_is_the_earlier_of_the_two_rules(world, owned, frozen_clock):
    assert owned.reclaim_at == T0 + timedelta(days=15) and owned.reclaim_rule == "reclaim_no_follow_up"
    # Following up every week keeps it until the deal period (90 days) ends.
    for week in range(1, 13):
        frozen_clock(T0 + timedelta(weeks=week))
        followups.log_follow_up(world.rep_a, owned.id, channel="phone", content=f"第 {week} 周跟进")
    assert owned.reclaim_at == T0 + timedelta(days=90) and owned.reclaim_rule == "reclaim_no_deal"


def test_won_customers_never_return(world, owned, frozen_clock):
    customers.change_stage(world.rep_a, owned.id, "won", owned.version)
    assert owned.reclaim_at is None
    frozen_clock(T0 + timedelta(days=400))
    assert reclaim.reclaim_due() == 0
    assert owned.owner_id == world.rep_a.id


def test_grade_periods_differ(world, frozen_clock):
    frozen_clock(T0)
    update_settings(
        world.admin,
        dict(settings.DEFAULTS),
        {"A": {"follow_up_days": 30, "deal_days": 180}, "D": {"follow_up_days": 7}},
    )
    a = make_customer(world.rep_a, "甲级客户有限公司", grade="A")
    d = make_customer(world.rep_a, "丁级客户有限公司", grade="D")
    c = make_customer(world.rep_a, "丙级客户有限公司", grade="C")
    assert (a.reclaim_at - T0).days == 30 and (d.reclaim_at - T0).days == 7 and (c.reclaim_at - T0).days == 15


def test_changing_the_settings_recomputes_every_date(client_as, world, owned):
    form = rule_settings_form(follow_up_days="20", grade_C_follow_up_days="25")
    response = client_as(world.admin).post("/rules", data=form)
    assert response.status_code == 303
    assert owned.reclaim_at == T0 + timedelta(days=25)
    event = db.session.scalar(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "rules.settings_changed")
    )
    assert event.details["changes"]["follow_up_days"] == [15, 20]


def test_reclaim_moves_overdue_customers_and_records_the_rule(world, owned, frozen_clock):
    owned_collaboration = collaborators.add_collaborator(world.rep_a, owned.id, world.rep_a2.id)  # noqa: F841
    frozen_clock(T0 + timedelta(days=15, seconds=-1))
    assert reclaim.reclaim_due() == 0
    frozen_clock(T0 + timedelta(days=15))
    assert reclaim.reclaim_due() == 1
    db.session.rollback()
    assert owned.owner_id is None and owned.reclaim_at is None
    assert history(owned)[-1] == ("reclaim_no_follow_up", world.rep_a.id, None)
    assert db.session.scalar(select(func.count()).select_from(Collaborator)) == 0
    [note] = notifications(world.rep_a, "reclaim.done")
    assert note.message == "「苏州恒达精密机械有限公司」已回收到公海：超期未跟进"
    # Idempotent: nothing more happens on the next runs.
    assert reclaim.reclaim_due() == 0
    assert len(history(owned)) == 2


def test_reclaim_by_the_deal_rule(world, owned, frozen_clock):
    for day in range(10, 95, 10):
        frozen_clock(T0 + timedelta(days=day))
        followups.log_follow_up(world.rep_a, owned.id, channel="wechat", content="微信沟通")
    frozen_clock(T0 + timedelta(days=90))
    assert reclaim.reclaim_due() == 1
    assert history(owned)[-1][0] == "reclaim_no_deal"


def test_cooldown_after_reclaim(client_as, world, owned, frozen_clock):
    frozen_clock(T0 + timedelta(days=16))
    reclaim.reclaim_due()
    response = client_as(world.rep_a).post(f"/customers/{owned.id}/claim")
    assert response.status_code == 409 and "起才能重新领取" in response.get_data(as_text=True)


def test_warning_once_per_deadline(world, owned, frozen_clock):
    frozen_clock(T0 + timedelta(days=11))  # 4 days left: not yet
    assert reclaim.warn_due() == 0
    frozen_clock(T0 + timedelta(days=12, hours=1))  # inside the 3-day window
    assert reclaim.warn_due() == 1
    assert reclaim.warn_due() == 0
    [note] = notifications(world.rep_a, "reclaim.warning")
    assert note.message == "「苏州恒达精密机械有限公司」将于 2026年3月17日 回收到公海，请及时跟进"
    # A follow-up moves the deadline; the next window warns again.
    followups.log_follow_up(world.rep_a, owned.id, channel="phone", content="电话")
    frozen_clock(T0 + timedelta(days=25))
    assert reclaim.warn_due() == 1


def test_the_customer_page_shows_the_date_and_countdown(client_as, world, owned, frozen_clock):
    frozen_clock(T0 + timedelta(days=13))
    html = client_as(world.rep_a).get(f"/customers/{owned.id}").get_data(as_text=True)
    assert "将于 2026年3月17日 回收到公海" in html and "剩 2 天" in html
    listing = client_as(world.rep_a).get("/customers?reclaim=soon").get_data(as_text=True)
    assert "苏州恒达精密机械有限公司" in listing


class TestExtensions:
    def test_owner_asks_manager_grants(self, client_as, world, owned):
        rep = client_as(world.rep_a)
        assert (
            rep.post(
                f"/customers/{owned.id}/extension", data={"days": "10", "reason": "客户预算下月审批"}
            ).status_code
            == 303
        )
        assert len(notifications(world.manager_a, "extension.requested")) == 1
        # A second request waits for the first.
        assert (
            rep.post(f"/customers/{owned.id}/extension", data={"days": "5", "reason": "再等等"}).status_code
            == 422
        )
        extension = extensions.pending_extensions(world.manager_a)[0]
        # Not the other team's manager, not the rep.
        assert (
            client_as(world.manager_b)
            .post(f"/extensions/{extension.id}/grant", data={"days": "10", "note": ""})
            .status_code
            == 403
        )
        grant = {"days": "10", "note": ""}
        assert rep.post(f"/extensions/{extension.id}/grant", data=grant).status_code == 403
        response = client_as(world.manager_a).post(
            f"/extensions/{extension.id}/grant", data={"days": "7", "note": "同意"}
        )
        assert response.status_code == 303
        assert owned.reclaim_at == T0 + timedelta(days=22) and owned.extension_days == 7
        assert (
            notifications(world.rep_a, "extension.granted")[0].message
            == "「苏州恒达精密机械有限公司」已延期 7 天"
        )
        assert client_as(world.manager_a).post(f"/extensions/{extension.id}/decline").status_code == 422

    def test_declined_changes_nothing(self, client_as, world, owned):
        client_as(world.rep_a).post(f"/customers/{owned.id}/extension", data={"days": "10", "reason": "理由"})
        extension = extensions.pending_extensions(world.manager_a)[0]
        assert (
            client_as(world.manager_a)
            .post(f"/extensions/{extension.id}/decline", data={"days": "10", "note": "请先跟进"})
            .status_code
            == 303
        )
        assert owned.reclaim_at == T0 + timedelta(days=15)
        assert len(notifications(world.rep_a, "extension.declined")) == 1

    @pytest.mark.parametrize(
        "data",
        [
            {"days": "0", "reason": "x"},
            {"days": "91", "reason": "x"},
            {"days": "abc", "reason": "x"},
            {"days": "5", "reason": ""},
            {"days": "5", "reason": "x" * 600},
        ],
    )
    def test_bad_requests(self, client_as, world, owned, data):
        assert client_as(world.rep_a).post(f"/customers/{owned.id}/extension", data=data).status_code == 422

    def test_only_the_owner_before_the_date(self, client_as, world, owned, frozen_clock):
        assert (
            client_as(world.rep_a2)
            .post(f"/customers/{owned.id}/extension", data={"days": "5", "reason": "x"})
            .status_code
            == 403
        )
        frozen_clock(T0 + timedelta(days=15, minutes=1))
        response = client_as(world.rep_a).post(
            f"/customers/{owned.id}/extension", data={"days": "5", "reason": "x"}
        )
        assert response.status_code == 422


class TestJobWithoutCron:
    def test_a_request_starts_the_job_at_most_once_per_minute(
        self, app, client_as, world, owned, frozen_clock
    ):
        app.config["RUN_PERIODIC_JOBS_IN_REQUESTS"] = True
        jobs._next_check.clear()
        frozen_clock(T0 + timedelta(days=16))
        client_as(world.rep_b).get("/customers")
        jobs.THREADS["reclaim"].join(10)
        assert history(owned)[-1][0] == "reclaim_no_follow_up"
        # The lease: another process inside the same minute does not run it.
        assert jobs.take_lease("reclaim", timedelta(minutes=1)) is False
        frozen_clock(T0 + timedelta(days=16, minutes=1))
        assert jobs.take_lease("reclaim", timedelta(minutes=1)) is True

    def test_two_processes_at_once_move_each_customer_once(self, app, world, make_app, frozen_clock):
        from concurrent.futures import ThreadPoolExecutor

        frozen_clock(T0)
        customers = [make_customer(world.rep_a, f"到期{n}号有限公司") for n in range(30)]
        frozen_clock(T0 + timedelta(days=16))
        apps = [make_app() for _ in range(3)]

        def run(other):
            with other.app_context():
                return reclaim.reclaim_due()

        with ThreadPoolExecutor(3) as pool:
            moved = list(pool.map(run, apps))
        assert sum(moved) == 30
        db.session.rollback()
        counts = db.session.execute(
            select(OwnershipChange.customer_id, func.count())
            .where(OwnershipChange.reason == "reclaim_no_follow_up")
            .group_by(OwnershipChange.customer_id)
        ).all()
        assert sorted(count for _id, count in counts) == [1] * 30
        assert all(
            c.owner_id is None
            for c in db.session.scalars(select(Customer).where(Customer.id.in_([c.id for c in customers])))
        )

    def test_the_cli_command(self, app, world, owned, frozen_clock):
        frozen_clock(T0 + timedelta(days=16))
        result = app.test_cli_runner().invoke(args=["salesdesk", "reclaim"])
        assert result.exit_code == 0 and "returned 1 to the pool" in result.output

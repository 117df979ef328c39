"""协作之星: when a month closes its top three (ties included) get a badge, exactly once —
from the CLI, from the app in the course of requests, and from several processes at once."""

import threading

import pytest
from sqlalchemy import func, select

from salesdesk import jobs
from salesdesk.errors import DomainError
from salesdesk.extensions import db
from salesdesk.notifications import Notification
from salesdesk.recognition import badges as stars
from salesdesk.recognition import leaderboard
from salesdesk.recognition.entries import reverse_entry
from salesdesk.recognition.models import MonthClosing, PointEntry, StarBadge
from salesdesk.recognition.periods import current_and_previous
from tests.fixtures.recognition import SHANGHAI, award_at, local


def badges():
    db.session.rollback()
    rows = db.session.execute(
        select(StarBadge.month, StarBadge.user_id, StarBadge.rank, StarBadge.points).order_by(
            StarBadge.month, StarBadge.rank, StarBadge.user_id
        )
    )
    return [(f"{month:%Y-%m}", user_id, rank, points) for month, user_id, rank, points in rows]


@pytest.fixture
def october(world, frozen_clock):
    """October: 张三 40, 李四 30, 赵支持 30, 王五 20, 黄经理 10; now is 1 November."""
    for points, user in ((40, world.rep_a), (30, world.rep_a2), (30, world.support_a), (20, world.rep_b)):
        award_at(local(2026, 10, 12), world.admin, user, points)
    award_at(local(2026, 10, 31, 23, 50), world.admin, world.manager_b, 10)
    frozen_clock(local(2026, 11, 1, 0, 5))
    return world


def test_the_top_three_with_ties_get_a_badge(october):
    world = october
    closing, new, closed_now = stars.close_month()
    assert closed_now and f"{closing.month:%Y-%m}" == "2026-10" and closing.badge_count == 3
    assert [(b.user_id, b.rank) for b in new] == [
        (world.rep_a.id, 1),
        (world.rep_a2.id, 2),
        (world.support_a.id, 2),
    ]
    assert badges() == [
        ("2026-10", world.rep_a.id, 1, 40),
        ("2026-10", world.rep_a2.id, 2, 30),
        ("2026-10", world.support_a.id, 2, 30),
    ]
    notifications = db.session.scalars(select(Notification).where(Notification.kind == "badge.awarded"))
    assert "你获评 2026年10月的协作之星（第 1 名）" in [n.message for n in notifications]


def test_a_tie_for_third_place_gives_four_badges(world, frozen_clock):
    for points, user in ((40, world.rep_a), (30, world.rep_a2), (20, world.support_a), (20, world.rep_b)):
        award_at(local(2026, 10, 12), world.admin, user, points)
    frozen_clock(local(2026, 11, 2))
    stars.close_month()
    assert [rank for _month, _user, rank, _points in badges()] == [1, 2, 3, 3]


def test_a_month_closes_exactly_once(october):
    stars.close_month()
    closing, new, closed_now = stars.close_month()
    assert not closed_now and new == [] and closing.badge_count == 3
    stars.close_due_months()
    assert len(badges()) == 3
    assert db.session.scalar(select(func.count()).where(Notification.kind == "badge.awarded")) == 3


def test_a_month_that_has_not_ended_cannot_close(world, frozen_clock):
    frozen_clock(local(2026, 11, 30, 23, 59))
    with pytest.raises(DomainError) as refused:
        stars.close_month(local(2026, 11, 1).date())
    assert refused.value.message == "2026-11 还没有结束。"


def test_nobody_without_points_gets_a_badge(world, frozen_clock):
    award_at(local(2026, 10, 12), world.admin, world.rep_a, 5)
    frozen_clock(local(2026, 11, 2))
    stars.close_month()
    assert badges() == [("2026-10", world.rep_a.id, 1, 5)]


def test_badges_stay_when_a_closed_months_points_are_reversed_later(october):
    world = october
    stars.close_month()
    entry = db.session.scalar(select(PointEntry).where(PointEntry.recipient_id == world.rep_a.id))
    reverse_entry(world.admin, entry.id, reason="重复发放")
    # Awarded once: a later correction changes October's totals, not its badges.
    assert len(badges()) == 3
    october_period, _previous = current_and_previous("month", local(2026, 10, 20), SHANGHAI)
    assert [s.name for s in leaderboard.standings(october_period)] == ["李四", "赵支持", "王五", "黄经理"]


def test_several_processes_closing_at_once_award_each_badge_once(october, make_app):
    """Eight app instances (as eight gunicorn workers would) close October at the same moment."""
    apps = [make_app() for _ in range(8)]
    barrier = threading.Barrier(len(apps))
    results, errors = [], []

    def close(other):
        with other.app_context():
            try:
                barrier.wait()
                _closing, new, closed_now = stars.close_month()
                results.append((closed_now, len(new)))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=close, args=(other,)) for other in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [(False, 0)] * 7 + [(True, 3)]
    assert len(badges()) == 3
    assert db.session.scalar(select(func.count()).select_from(MonthClosing)) == 1


@pytest.fixture
def jobs_in_requests(app):
    app.config["RUN_PERIODIC_JOBS_IN_REQUESTS"] = True
    jobs._next_check.clear()

    def request_and_wait(client, url="/"):
        response = client.get(url)
        for thread in jobs.THREADS.values():
            thread.join(30)
        return response

    return request_and_wait


def test_the_app_closes_ended_months_in_requests(october, client_as, jobs_in_requests, monkeypatch):
    world = october
    rep = client_as(world.rep_a)
    assert jobs_in_requests(rep).status_code == 200
    assert len(badges()) == 3
    # A process looks at most once a minute.
    calls = []
    monkeypatch.setattr(stars, "close_due_months", lambda now=None: calls.append(now) or [])
    jobs.THREADS.clear()
    jobs_in_requests(rep)
    jobs_in_requests(rep, "/leaderboard")
    assert calls == []


def test_the_app_catches_up_on_every_ended_month(world, client, frozen_clock, jobs_in_requests):
    award_at(local(2026, 8, 12), world.admin, world.rep_a, 5)
    award_at(local(2026, 9, 12), world.admin, world.rep_a2, 5)
    frozen_clock(local(2026, 11, 3))
    jobs_in_requests(client, "/login")
    assert [(month, user) for month, user, _rank, _points in badges()] == [
        ("2026-08", world.rep_a.id),
        ("2026-09", world.rep_a2.id),
    ]
    assert db.session.scalars(select(MonthClosing.badge_count).order_by(MonthClosing.month)).all() == [
        1,
        1,
        0,
    ]


def test_a_failing_check_never_breaks_the_request(october, client_as, monkeypatch, jobs_in_requests):
    from sqlalchemy.exc import OperationalError

    def locked(now=None):
        raise OperationalError("close", {}, Exception("database is locked"))

    monkeypatch.setattr(stars, "close_due_months", locked)
    assert jobs_in_requests(client_as(october.rep_a)).status_code == 200


# ---- the command ----------------------------------------------------------------------


def test_close_month_command(app, october):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["salesdesk", "close-month"])
    assert result.exit_code == 0, result.output
    assert "Closed 2026-10: 3 badges: 1. 张三 (40), 2. 李四 (30), 2. 赵支持 (30)." in result.output
    again = runner.invoke(args=["salesdesk", "close-month", "--month", "2026-10"])
    assert again.exit_code == 0 and "2026-10 was closed already (3 badges)." in again.output
    assert "No ended month" in runner.invoke(args=["salesdesk", "close-month"]).output
    future = runner.invoke(args=["salesdesk", "close-month", "--month", "2026-11"])
    assert future.exit_code != 0 and "2026-11 还没有结束。" in future.output
    bad = runner.invoke(args=["salesdesk", "close-month", "--month", "October"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
    assert len(badges()) == 3

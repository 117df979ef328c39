"""Automatic points for support work: a request its requester rates 5 stars gives its
handler the desk's five_star_points (default 2), once per request, at most
five_star_monthly_cap (default 20) a handler and month; the support desk sends
signals.support_rated when it is confirmed."""

import pytest
from sqlalchemy import select

from salesdesk import signals
from salesdesk.auth import services as accounts
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.notifications import Notification
from salesdesk.recognition.entries import reverse_entry
from salesdesk.recognition.models import PointEntry
from salesdesk.support.levels import SETTING_DEFAULTS
from salesdesk.support.models import Request, RequestType, Settings, Status
from tests.fixtures.recognition import assert_summaries_exact, entry_count, local, points_of

pytestmark = pytest.mark.usefixtures("mid_november")


def desk(**changes):
    """The desk's settings as the lifecycle hands them to the signal."""
    return Settings(id=1, **{**SETTING_DEFAULTS, **changes})


def closed_request(requester, handler, title="华宇餐饮门店系统报价"):
    """A request its requester has just confirmed (the row as lifecycle.confirm leaves it)."""
    with write_transaction() as session:
        request_type = session.scalars(select(RequestType).order_by(RequestType.position)).first()
        request = Request(
            requester_id=requester.id,
            type=request_type,
            handler_id=handler.id if handler else None,
            title=title,
            status=Status.CLOSED,
            rating=5,
        )
        session.add(request)
    return request


def rate(request, rating=5, settings=None):
    with write_transaction():
        signals.support_rated.send(request, rating=rating, settings=settings or desk())


def test_five_stars_give_the_handler_points_once(world):
    request = closed_request(world.rep_a, world.support_a)
    rate(request)
    rate(request)  # a second signal for the same request (reopened and rated again)
    entry = db.session.scalars(select(PointEntry)).one()
    assert (entry.recipient_id, entry.giver_id, entry.points) == (world.support_a.id, None, 2)
    assert (entry.kind, entry.category, entry.cause, entry.cause_key) == (
        "auto",
        "follow_up",
        "support_rated",
        f"support:{request.id}",
    )
    assert entry.reason and str(entry.display_reason)
    notification = db.session.scalars(select(Notification)).one()
    assert (notification.user_id, notification.kind) == (world.support_a.id, "points.support_rated")
    assert notification.params["requester"] == "张三"
    assert_summaries_exact()


def test_fewer_stars_give_nothing(world):
    for rating in (1, 3, 4):
        rate(closed_request(world.rep_a, world.support_a, f"请求 {rating}"), rating=rating)
    assert entry_count() == 0


def test_the_points_follow_the_desk_settings(world):
    rate(closed_request(world.rep_a, world.support_a, "请求 1"), settings=desk(five_star_points=5))
    assert points_of(world.support_a) == 5
    rate(closed_request(world.rep_a, world.support_a, "请求 2"), settings=desk(five_star_points=0))
    assert points_of(world.support_a) == 5 and entry_count() == 1


def test_at_most_the_monthly_cap_per_handler(world, frozen_clock):
    for number in range(12):
        rate(closed_request(world.rep_a, world.support_a, f"请求 {number}"))
    assert points_of(world.support_a) == 20  # ten requests of 2 points
    other = accounts.create_user(
        email="support.b@test.example",
        display_name="钱支持",
        role="support",
        password="a-long-password-1",
        team=world.team_b,
    )
    rate(closed_request(world.rep_b, other, "另一位的请求"))  # each handler has their own cap
    assert points_of(other) == 2
    frozen_clock(local(2026, 12, 1, 9))  # a new month, a new cap
    rate(closed_request(world.rep_a, world.support_a, "十二月的请求"))
    assert points_of(world.support_a) == 22
    assert_summaries_exact()


def test_a_cap_with_points_that_do_not_divide_it(world):
    for number in range(8):
        request = closed_request(world.rep_a, world.support_a, f"请求 {number}")
        rate(request, settings=desk(five_star_points=3))
    assert points_of(world.support_a) == 18  # a seventh would make 21, over the cap of 20


def test_reversed_points_free_the_cap_and_are_not_given_again(world):
    request = closed_request(world.rep_a, world.support_a)
    rate(request, settings=desk(five_star_monthly_cap=2))
    entry = db.session.scalars(select(PointEntry)).one()
    reverse_entry(world.admin, entry.id, reason="评分是误操作")
    rate(request, settings=desk(five_star_monthly_cap=2))
    assert points_of(world.support_a) == 0
    rate(closed_request(world.rep_a, world.support_a, "下一个请求"), settings=desk(five_star_monthly_cap=2))
    assert points_of(world.support_a) == 2


def test_no_points_for_an_inactive_handler_or_a_request_without_one(world):
    accounts.deactivate_user(world.support_a, actor=world.admin)
    db.session.refresh(world.support_a)
    rate(closed_request(world.rep_a, world.support_a, "请求 1"))
    rate(closed_request(world.rep_a, None, "请求 2"))
    assert entry_count() == 0


def test_the_points_roll_back_with_the_rating(world):
    request = closed_request(world.rep_a, world.support_a)
    with pytest.raises(RuntimeError), write_transaction():
        signals.support_rated.send(request, rating=5, settings=desk())
        raise RuntimeError("the confirmation failed after the signal")
    assert entry_count() == 0
    rate(request)
    assert points_of(world.support_a) == 2

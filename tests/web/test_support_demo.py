"""The support desk's demo: the published holidays in the working calendar, a support
lead, and a few weeks of requests in every state, with ratings, replies, internal
notes, breaches and the 5-star points, loaded by `salesdesk demo`."""

from collections import Counter

from sqlalchemy import func, select

from salesdesk.auth.models import User
from salesdesk.extensions import db
from salesdesk.recognition.models import PointEntry
from salesdesk.support import holidays
from salesdesk.support.models import CalendarDay, Event, Request, Status


def test_the_demo_fills_the_support_desk(app, demo):
    published = holidays.published(2026)
    days = dict(db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all())
    assert {day for day, _name in published["holidays"]} <= {d for d, k in days.items() if k == "holiday"}
    assert {day for day, _name in published["workdays"]} <= {d for d, k in days.items() if k == "workday"}

    lead = db.session.scalar(select(User).where(User.email == "yang.fan@salesdesk.example"))
    assert lead.support_lead

    found = db.session.scalars(select(Request)).all()
    assert 40 <= len(found) <= 60
    assert set(Counter(request.status for request in found)) == set(Status)
    closed = [request for request in found if request.status == Status.CLOSED]
    assert {request.rating for request in closed} >= {3, 4, 5}
    assert any(request.rating is None for request in closed), "one closed by itself, unrated"
    assert sum(request.breached for request in found) in (1, 2, 3)
    assert len({request.type_id for request in found}) == 7
    assert len({request.handler_id for request in found}) >= 3
    for request in found:
        assert request.customer is not None and request.customer.owner_id == request.requester_id
        assert any("\u4e00" <= char <= "\u9fff" for char in request.title)
        if request.status != Status.NEW and request.status != Status.CANCELLED:
            assert request.accepted_at is not None and request.response_minutes is not None
    kinds = Counter(db.session.scalars(select(Event.kind)))
    assert {"note", "reply", "returned", "reopened", "assigned", "breached", "confirmed"} <= set(kinds)

    # The 5-star ratings gave their handlers points.
    fives = sum(request.rating == 5 for request in found)
    points = db.session.scalar(
        select(func.count()).select_from(PointEntry).where(PointEntry.cause == "support_rated")
    )
    assert 0 < points <= fives

    # Loaded once.
    again = app.test_cli_runner().invoke(args=["salesdesk", "demo"])
    assert again.exit_code == 0, again.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Request)) == len(found)

"""Helpers for the recognition tests: local times, awards, and looking at the points.
Customers are made with tests.ledger_helpers.make_customer, through the ledger's services."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.recognition import services, summaries
from salesdesk.recognition.models import PointEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year, month, day, hour=10, minute=0, zone=SHANGHAI):
    """An aware moment in a local time zone (Asia/Shanghai unless given)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def article(number, author):
    """Knowledge-base article number `number` by `author` (made on first use)."""
    from salesdesk.kb import services as kb
    from salesdesk.kb.models import Article

    title = f"文章 {number}"
    existing = db.session.scalar(select(Article).where(Article.title == title))
    return existing or kb.create_article(author=author, title=title, body="正文。", publish=True)


def award(giver, recipient, points=10, reason="帮忙准备了报价方案", category="follow_up", **kwargs):
    return services.award_points(
        giver, recipient_id=recipient.id, points=points, category=category, reason=reason, **kwargs
    )


def thank(giver, recipient, points=1, reason="谢谢你的帮忙", category="follow_up", **kwargs):
    return services.thank(
        giver, recipient_id=recipient.id, points=points, category=category, reason=reason, **kwargs
    )


def gift_form(recipient, points, category="follow_up", reason="帮忙准备了报价方案", **overrides):
    """What the award and thanks pages post: their hidden `customer_id` and `next` are
    empty unless the page was opened from a customer or another page. `recipient` is a
    user or an id as text."""
    recipient_id = recipient if isinstance(recipient, str) else str(recipient.id)
    return {
        "recipient_id": recipient_id,
        "points": str(points),
        "category": category,
        "reason": reason,
        "customer_id": "",
        "next": "",
        **overrides,
    }


def award_at(moment, giver, recipient, points=10, **kwargs):
    clock.set_now(moment)
    return award(giver, recipient, points, **kwargs)


def entry_count():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(PointEntry))


def points_of(user):
    db.session.rollback()
    return db.session.scalar(
        select(func.coalesce(func.sum(PointEntry.points), 0)).where(PointEntry.recipient_id == user.id)
    )


def board(viewer, period="month", team_id=None, limit=None):
    """{name: (rank, points, movement)} of a leaderboard, and the Board itself."""
    result = services.leaderboard(viewer, period, team_id, limit=limit)
    return {s.name: (s.rank, s.points, s.movement) for s in result.rows}, result


def order(viewer, period="month", team_id=None):
    return [(s.name, s.rank, s.points) for s in services.leaderboard(viewer, period, team_id).rows]


def assert_summaries_exact():
    db.session.rollback()
    assert summaries.mismatches(db.session) == []

"""A person's recognition page: who they are, their points (all time, this month, by
category) and their 协作之星 badges."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..auth.models import User
from ..database import is_id
from ..errors import NotFound
from ..extensions import db
from .leaderboard import standings
from .models import Category, PointEntry, PointTotal, StarBadge
from .periods import current_and_previous, user_zone


def get_person(user_id):
    person = db.session.get(User, user_id) if is_id(user_id) else None
    if person is None:
        raise NotFound(_("This colleague does not exist."))
    return person


@dataclass
class Overview:
    total: int
    month_points: int
    month_rank: int | None
    by_category: list
    badges: list


def person_overview(person, viewer):
    session = db.session
    total = session.scalar(select(PointTotal.points).where(PointTotal.user_id == person.id)) or 0
    sums = dict(
        session.execute(
            select(PointEntry.category, func.sum(PointEntry.points))
            .where(PointEntry.recipient_id == person.id)
            .group_by(PointEntry.category)
        ).all()
    )
    by_category = [(Category(c), int(sums.get(c.value) or 0)) for c in Category]
    current, _previous = current_and_previous("month", clock.now(), user_zone(viewer))
    month = next((s for s in standings(current) if s.user_id == person.id), None)
    badges = session.scalars(
        select(StarBadge).where(StarBadge.user_id == person.id).order_by(StarBadge.month.desc())
    ).all()
    return Overview(total, month.points if month else 0, month.rank if month else None, by_category, badges)

"""What the desk adds to a customer's page: the way to ask support about it, and the
requests' steps on its timeline."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import clock
from ..auth.models import Role, User
from ..extensions import db
from ..ledger import access as ledger_access
from ..ledger.timeline import Described, TimelineItem, register_source
from . import access
from .models import EVENT_LABELS, Event, EventKind, Request

HOME_ROWS = 8

# The steps a customer's timeline shows; replies, notes and the clock's warnings stay
# on the request's own page.
ON_CUSTOMER_TIMELINE = (
    EventKind.FILED,
    EventKind.ACCEPTED,
    EventKind.RETURNED,
    EventKind.RESOLVED,
    EventKind.CONFIRMED,
    EventKind.REOPENED,
    EventKind.CANCELLED,
    EventKind.CLOSED,
)


def request_url(user, customer):
    """The new-request form for this customer, for those who may file about it."""
    if not access.may_file(user) or not ledger_access.can_see_details(user, customer):
        return None
    return url_for("support.new", customer=customer.id)


@register_source
def request_steps(customer, limit):
    rows = db.session.execute(
        select(Event, Request.id, Request.title)
        .join(Request, Request.id == Event.request_id)
        .where(Request.customer_id == customer.id, Event.kind.in_(ON_CUSTOMER_TIMELINE))
        .order_by(Event.created_at.desc())
        .limit(limit)
        .options(joinedload(Event.actor))
    ).all()
    return [
        TimelineItem(
            "support",
            event.created_at,
            event.actor,
            Described(
                _(
                    "%(step)s · support request #%(id)s “%(title)s”",
                    step=EVENT_LABELS[event.kind],
                    id=request_id,
                    title=title,
                )
            ),
        )
        for event, request_id, title in rows
    ]


@dataclass
class Home:
    """The desk's part of a workbench: a support user's queue and breaches, a
    requester's open requests, a manager's team attainment this month."""

    queue: list
    queue_total: int
    breached: list
    mine: list
    due: dict
    attainment: object = None


def home_for(user):
    from . import pages, queue  # here: pages import the forms, which import lifecycle

    if access.is_support(user):
        waiting = queue.breaching_first(user, HOME_ROWS)
        breached = queue.breached_open(user, HOME_ROWS)
        shown = waiting + [item for item in breached if item not in waiting]
        return Home(waiting, queue.count_queue(user), breached, [], pages.due_labels(shown))
    mine = queue.open_requests_of(user, HOME_ROWS) if access.may_file(user) else []
    attainment = team_attainment(user) if user.role == Role.MANAGER and user.team_id else None
    if not mine and attainment is None:
        return None
    return Home([], 0, [], mine, pages.due_labels(mine), attainment)


@dataclass
class Attainment:
    responded: int  # first responses this month
    responded_in_time: int
    resolved: int
    resolved_in_time: int

    @staticmethod
    def percent(part, whole):
        return round(100 * part / whole) if whole else None


def team_attainment(manager):
    """This month's service levels on the requests of the manager's team: first
    responses and resolutions given this month, and how many were in time."""
    zone = ZoneInfo(manager.timezone)
    start = clock.now().astimezone(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    team = select(User.id).where(User.team_id == manager.team_id).scalar_subquery()
    mine = Request.requester_id.in_(team)

    def counted(moment, met):
        return db.session.execute(
            select(func.count(), func.count().filter(met.is_(True))).where(mine, moment >= start)
        ).one()

    responded, responded_in_time = counted(Request.accepted_at, Request.response_met)
    resolved, resolved_in_time = counted(Request.resolved_at, Request.resolution_met)
    return Attainment(responded, responded_in_time, resolved, resolved_in_time)

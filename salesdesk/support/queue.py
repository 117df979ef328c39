"""The request lists: a support user's queue ordered by what breaches first, a
requester's own requests, a lead's or manager's whole team; filters from the query
string, and pages that stay fast at 50,000 requests (the open ones sort on the
(status, next_due_at) index; the count stops at COUNT_LIMIT)."""

from dataclasses import dataclass, fields

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import paging
from ..auth.models import Role
from ..database import is_id
from ..extensions import db
from . import access
from .models import Priority, Request, RequestType, Status

PER_PAGE = 25
COUNT_LIMIT = 1_000
# What each list shows; the queue is a support user's, "mine" a requester's.
SCOPES = ("queue", "mine", "team", "all")
STATUSES = ("open", "closed", "any", *tuple(Status))


def default_scope(user):
    if access.is_support(user):
        return "queue"
    if user.role == Role.MANAGER:
        return "team"
    if user.role == Role.ADMIN:
        return "all"
    return "mine"


def scopes_for(user):
    """The lists a user may switch between, in the order the tabs show them."""
    if access.is_support(user):
        return ("queue", "all")
    if user.role == Role.MANAGER:
        return ("mine", "team")
    if user.role == Role.ADMIN:
        return ("all", "mine")
    return ("mine",)


@dataclass
class Filters:
    scope: str = ""
    status: str = "open"
    type_id: int | None = None
    handler_id: int | None = None  # 0: nobody yet
    priority: str = ""
    customer_id: int | None = None
    breached: bool = False

    @classmethod
    def from_args(cls, args, user):
        """Filters from a query string; anything unknown is simply not a filter."""

        def an_id(name):
            value = args.get(name, type=int)
            return value if is_id(value) or (name == "handler" and value == 0) else None

        scope = args.get("scope", "")
        status = args.get("status", "open")
        return cls(
            scope=scope if scope in scopes_for(user) else default_scope(user),
            status=status if status in STATUSES else "open",
            type_id=an_id("type"),
            handler_id=an_id("handler"),
            priority=args.get("priority", "") if args.get("priority") in tuple(Priority) else "",
            customer_id=an_id("customer"),
            breached=args.get("breached") == "1",
        )

    def args(self, **changes):
        """The query string of these filters (for links and the next page)."""
        names = {"type_id": "type", "handler_id": "handler", "customer_id": "customer"}
        values = {field.name: getattr(self, field.name) for field in fields(self)} | changes
        out = {}
        for name, value in values.items():
            if value is None or value == "" or value is False:
                continue
            out[names.get(name, name)] = "1" if value is True else value
        return out

    @property
    def narrowed(self):
        """Whether anything beyond the scope and the default status narrows the list."""
        return any(
            (self.type_id, self.handler_id is not None, self.priority, self.customer_id, self.breached)
        ) or (self.status != "open")


def _scope_clause(user, scope):
    if scope == "mine":
        return Request.requester_id == user.id
    if scope == "queue":
        # The support user's queues (their team's and the company-wide one) and what
        # they handle wherever it is.
        return or_(Request.team_id.is_(None), Request.team_id == user.team_id, Request.handler_id == user.id)
    return access.visible_clause(user, Request)


def _status_clause(status):
    if status == "open":
        return Request.status.in_(Status.OPEN)
    if status == "closed":
        return Request.status.in_((Status.CLOSED, Status.CANCELLED))
    if status == "any":
        return None
    return Request.status == status


def requests_query(user, filters):
    conditions = [access.visible_clause(user, Request), _scope_clause(user, filters.scope)]
    conditions.append(_status_clause(filters.status))
    if filters.type_id:
        conditions.append(Request.type_id == filters.type_id)
    if filters.handler_id == 0:
        conditions.append(Request.handler_id.is_(None))
    elif filters.handler_id:
        conditions.append(Request.handler_id == filters.handler_id)
    if filters.priority:
        conditions.append(Request.priority == filters.priority)
    if filters.customer_id:
        conditions.append(Request.customer_id == filters.customer_id)
    if filters.breached:
        conditions.append(
            or_(Request.response_breached_at.is_not(None), Request.resolution_breached_at.is_not(None))
        )
    return select(Request).where(*(condition for condition in conditions if condition is not None))


def ordered(query, filters):
    """Open requests by what breaches first (urgent first among equals; paused ones,
    which have no due time, after those that run); others newest first."""
    if filters.status == "open":
        return query.order_by(
            Request.next_due_at.is_(None), Request.next_due_at, Request.priority.desc(), Request.id
        )
    return query.order_by(Request.created_at.desc(), Request.id.desc())


def page_of(user, filters, page):
    # The people, types and customers in a second round: joined into the page's query
    # they made PostgreSQL sort the wide joined rows (16 ms instead of 4.5 at 50,000).
    query = ordered(requests_query(user, filters), filters).options(
        selectinload(Request.requester),
        selectinload(Request.handler),
        selectinload(Request.type),
        selectinload(Request.customer),
    )
    result = paging.paginate(query, page, PER_PAGE, count=False)
    capped = requests_query(user, filters).with_only_columns(Request.id).limit(COUNT_LIMIT + 1)
    result.total = db.session.scalar(select(func.count()).select_from(capped.subquery()))
    return result


def breaching_first(user, limit):
    """The open requests a support user works on, the next to breach first (their home)."""
    filters = Filters(scope="queue" if access.is_support(user) else default_scope(user))
    query = ordered(requests_query(user, filters), filters).options(joinedload(Request.type))
    return db.session.scalars(query.limit(limit)).all()


def count_queue(user):
    """Open requests in a support user's queue (up to COUNT_LIMIT + 1)."""
    capped = requests_query(user, Filters(scope="queue")).with_only_columns(Request.id).limit(COUNT_LIMIT + 1)
    return db.session.scalar(select(func.count()).select_from(capped.subquery()))


def breached_open(user, limit):
    """Open requests of a support user's queue whose service level was breached."""
    filters = Filters(scope="queue", breached=True)
    query = ordered(requests_query(user, filters), filters).options(joinedload(Request.type))
    return db.session.scalars(query.limit(limit)).all()


def open_requests_of(user, limit):
    """A requester's open requests and those waiting for their confirmation (a rep's home)."""
    query = (
        select(Request)
        .where(Request.requester_id == user.id, Request.status.in_(Status.OPEN | {Status.RESOLVED}))
        .order_by(Request.updated_at.desc())
        .options(joinedload(Request.handler), joinedload(Request.type))
    )
    return db.session.scalars(query.limit(limit)).all()


def filter_choices(user):
    """Types and handlers for the filter form."""
    types = db.session.scalars(select(RequestType).order_by(RequestType.position, RequestType.id)).all()
    team_id = user.team_id if user.role != Role.ADMIN else None
    handlers = db.session.scalars(access.handlers_for(team_id if access.is_support(user) else None)).all()
    return types, handlers

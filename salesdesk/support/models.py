"""The support desk's tables: request types, requests, their timeline (events, which
include replies and internal notes), attachments, the working calendar's days and the
desk's settings."""

from datetime import date, datetime, time
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..auth.models import Team, User
from ..database import UTCDateTime
from ..extensions import db


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.NEW: _l("Waiting to be accepted"),
    Status.IN_PROGRESS: _l("In progress"),
    Status.RETURNED: _l("Needs more information"),
    Status.RESOLVED: _l("Waiting for confirmation"),
    Status.CLOSED: _l("Done"),
    Status.CANCELLED: _l("Cancelled"),
}

# Requests someone still has to act on (the queue, the backlog, breach checks).
Status.OPEN = frozenset({Status.NEW, Status.IN_PROGRESS, Status.RETURNED})
# The service-level clock runs in these; returned and resolved pause it.
Status.CLOCK_RUNS = frozenset({Status.NEW, Status.IN_PROGRESS})


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"

    @property
    def label(self):
        return PRIORITY_LABELS[self]


PRIORITY_LABELS = {Priority.NORMAL: _l("Standard"), Priority.URGENT: _l("Urgent")}


class Routing(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_OPEN = "least_open"
    LEAD = "lead"

    @property
    def label(self):
        return ROUTING_LABELS[self]


ROUTING_LABELS = {
    Routing.ROUND_ROBIN: _l("Round robin"),
    Routing.LEAST_OPEN: _l("Whoever has the fewest open requests"),
    Routing.LEAD: _l("The support lead picks"),
}


class Settings(db.Model):
    """The desk's settings: one row (id 1)."""

    __tablename__ = "support_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    day_start: Mapped[time] = mapped_column(Time, default=time(9))
    day_end: Mapped[time] = mapped_column(Time, default=time(18))
    # Handler and lead are warned this many working minutes before a due time.
    warn_minutes: Mapped[int] = mapped_column(default=60)
    # A resolved request nobody rates closes itself after this many working days.
    auto_close_days: Mapped[int] = mapped_column(default=3)
    # A closed request can be reopened for this many calendar days.
    reopen_days: Mapped[int] = mapped_column(default=7)
    # Points a 5-star rating gives the handler (0: none), at most this many a month.
    five_star_points: Mapped[int] = mapped_column(default=2)
    five_star_monthly_cap: Mapped[int] = mapped_column(default=20)


class RequestType(db.Model):
    __tablename__ = "support_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    # The questions a requester answers, one per line: they pre-fill the details.
    prompts: Mapped[str] = mapped_column(Text, default="")
    # The handler group: the support users of this team; None: the whole company's.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    routing: Mapped[str] = mapped_column(String(16), default=Routing.ROUND_ROBIN)
    # Service levels in working minutes.
    response_normal_minutes: Mapped[int] = mapped_column(default=8 * 60)
    resolve_normal_minutes: Mapped[int] = mapped_column(default=2 * 9 * 60)
    response_urgent_minutes: Mapped[int] = mapped_column(default=2 * 60)
    resolve_urgent_minutes: Mapped[int] = mapped_column(default=4 * 60)
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)
    # Round robin: who was given the last request of this type.
    last_handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    team: Mapped[Team | None] = relationship()

    def levels(self, priority):
        """(first response, resolution) in working minutes for a priority."""
        if priority == Priority.URGENT:
            return self.response_urgent_minutes, self.resolve_urgent_minutes
        return self.response_normal_minutes, self.resolve_normal_minutes


class Request(db.Model):
    __tablename__ = "support_requests"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint(
            "status IN ('new', 'in_progress', 'returned', 'resolved', 'closed', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("priority IN ('normal', 'urgent')", name="priority_known"),
        Index("ix_support_requests_status_next_due", "status", "next_due_at"),
        Index("ix_support_requests_handler_status", "handler_id", "status"),
        Index("ix_support_requests_requester_status", "requester_id", "status"),
        Index("ix_support_requests_team_status", "team_id", "status"),
        Index("ix_support_requests_customer", "customer_id", "created_at"),
        Index("ix_support_requests_created", "created_at"),
        # The performance board counts each person's requests filed, ratings given and
        # requests handled in a period from these alone, without reading the table
        # (a team's quarter: 17 ms a count on SQLite with the table, 2–3 without).
        Index("ix_support_requests_requester_created", "requester_id", "created_at"),
        Index("ix_support_requests_requester_closed", "requester_id", "closed_at", "rating"),
        # A support user's responses, resolutions and ratings of a period: a range of
        # each (support.metrics.handler_counts).
        Index("ix_support_requests_handler_accepted", "handler_id", "accepted_at", "response_met"),
        Index("ix_support_requests_handler_resolved", "handler_id", "resolved_at", "resolution_met"),
        Index("ix_support_requests_handler_closed", "handler_id", "closed_at", "rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    type_id: Mapped[int] = mapped_column(ForeignKey("support_types.id"))
    # The queue: the type's handler team when filed; None: the company-wide queue.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text, default="")
    needed_by: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(8), default=Priority.NORMAL)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW)
    # Every transition bumps it: two at once, one wins (see lifecycle).
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The resolution clock, in working minutes: it ran for elapsed_minutes before
    # clock_started_at, and runs from there while clock_started_at is set.
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elapsed_minutes: Mapped[int] = mapped_column(default=0)
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    response_met: Mapped[bool | None]
    resolution_met: Mapped[bool | None]
    response_warned: Mapped[bool] = mapped_column(default=False)
    resolution_warned: Mapped[bool] = mapped_column(default=False)
    response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The earliest due time still ahead of the request (first response, else
    # resolution); None while the clock is paused or stopped. The queue sorts by it.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
    kb_article_id: Mapped[int | None] = mapped_column(ForeignKey("kb_articles.id"))

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    type: Mapped[RequestType] = relationship()
    team: Mapped[Team | None] = relationship()
    customer = relationship("Customer")

    @property
    def status_label(self):
        return Status(self.status).label

    @property
    def priority_label(self):
        return Priority(self.priority).label

    @property
    def is_open(self):
        return self.status in Status.OPEN

    @property
    def breached(self):
        return self.response_breached_at is not None or self.resolution_breached_at is not None


class EventKind(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    REPLY = "reply"
    NOTE = "note"  # internal: support, leads, managers and admins only
    RETURNED = "returned"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # by itself, without a rating
    WARNED = "warned"
    BREACHED = "breached"
    KB_DRAFT = "kb_draft"


EVENT_LABELS = {
    EventKind.FILED: _l("filed the request"),
    EventKind.ACCEPTED: _l("accepted it"),
    EventKind.ASSIGNED: _l("changed the handler"),
    EventKind.REPLY: _l("replied"),
    EventKind.NOTE: _l("wrote a note"),
    EventKind.RETURNED: _l("asked for more information"),
    EventKind.RESOLVED: _l("resolved it"),
    EventKind.CONFIRMED: _l("confirmed and rated it"),
    EventKind.REOPENED: _l("reopened it"),
    EventKind.CANCELLED: _l("cancelled it"),
    EventKind.CLOSED: _l("closed it: nobody rated it in time"),
    EventKind.WARNED: _l("warned: the due time is near"),
    EventKind.BREACHED: _l("recorded a breach of the service level"),
    EventKind.KB_DRAFT: _l("made a knowledge-base draft of it"),
}


class Event(db.Model):
    """One step on a request's timeline; replies and notes carry a body."""

    __tablename__ = "support_events"
    __table_args__ = (Index("ix_support_events_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text, default="")
    # A short fact for the line ("王芳 → 李娜", "first response", the rating).
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    actor: Mapped[User | None] = relationship()

    @property
    def internal(self):
        return self.kind == EventKind.NOTE


class Attachment(db.Model):
    """A file on a request. The file lies in the instance folder under its SHA-256
    (support.files), so two requests with the same contract share one file."""

    __tablename__ = "support_attachments"
    __table_args__ = (
        Index("ix_support_attachments_request", "request_id"),
        Index("ix_support_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("support_events.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class CalendarDay(db.Model):
    """A public holiday on a weekday, or a make-up working day (调休) on a weekend."""

    __tablename__ = "work_calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(40), default="")

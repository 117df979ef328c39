"""A connection to a group robot, and the outbox of messages waiting to be posted to it."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..database import UTCDateTime
from ..extensions import db
from .robots import PLATFORMS


class Event(StrEnum):
    DEAL_WON = "deal_won"
    STARS = "stars"
    URGENT_REQUEST = "urgent_request"
    BREACH = "breach"
    COLLISION = "collision"
    WEEKLY_REPORT = "weekly_report"


EVENT_LABELS = {
    Event.DEAL_WON: _l("Deal won (喜报)"),
    Event.STARS: _l("Collaboration Stars of the month"),
    Event.URGENT_REQUEST: _l("Urgent support request filed"),
    Event.BREACH: _l("Support service level breached"),
    Event.COLLISION: _l("Collision filed"),
    Event.WEEKLY_REPORT: _l("Weekly report"),
}


class Connection(db.Model):
    __tablename__ = "chat_connections"
    __table_args__ = (
        CheckConstraint(
            "platform IN (" + ", ".join(f"'{platform}'" for platform in PLATFORMS) + ")",
            name="platform_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    platform: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(1000))
    # Write-only: saved, used to sign, never rendered again.
    secret: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))  # None: the whole company
    events: Mapped[list] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(16))  # the group's language
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # The first failure since the last success: 24 h of failures make it failing.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_announced: Mapped[bool] = mapped_column(default=False)

    team = relationship("Team")

    def receives(self, event):
        return self.enabled and event in (self.events or [])


class ChatMessage(db.Model):
    """One message for one connection. Written in the transaction of the event it tells
    of, posted after the commit by the background sender."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        # What is due: unsent, not given up, by the time of the next attempt.
        Index(
            "ix_chat_messages_due",
            "next_attempt_at",
            sqlite_where=text("sent_at IS NULL AND gave_up_at IS NULL"),
            postgresql_where=text("sent_at IS NULL AND gave_up_at IS NULL"),
        ),
        # A robot's recent attempts: its rate limit.
        Index("ix_chat_messages_connection_attempt", "connection_id", "attempted_at"),
        Index("ix_chat_messages_created", "created_at"),
        # "Once per …" messages (the weekly report, a breach) stay once per connection.
        UniqueConstraint("connection_id", "dedupe_key", name="uq_chat_messages_connection_dedupe"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("chat_connections.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    # robots.Message's fields, in the group's language at the moment of the event.
    content: Mapped[dict] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    attempts: Mapped[int] = mapped_column(default=0)
    # Set when a sender claims it (the attempt's moment); a claim older than the
    # sender's timeout is abandoned (a process died) and may be taken again.
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_answer: Mapped[str | None] = mapped_column(String(300))

    connection = relationship(Connection)

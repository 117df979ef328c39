"""In-app notifications: one table and one helper every feature uses. The workbench
shows them (bell, list); features register the message of each kind they create."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .database import UTCDateTime
from .extensions import db

# kind -> lazy message with %(name)s placeholders filled from the notification's
# params, or a function of the params for messages that translate codes or dates.
KINDS = {}


def register_kinds(messages):
    KINDS.update(messages)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read_id", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    # Makes "once per …" notifications (a daily reminder, say) idempotent, even
    # when two processes create them at the same moment.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def message(self):
        template = KINDS.get(self.kind)
        if template is None:
            return self.kind
        return template(self.params) if callable(template) else str(template) % self.params


def notify(user, kind, *, link=None, dedupe_key=None, **params):
    """Add a notification for `user` to the current transaction."""
    notification = Notification(
        user_id=user.id if hasattr(user, "id") else user,
        kind=kind,
        link=link,
        dedupe_key=dedupe_key,
        params=params,
        created_at=clock.now(),
    )
    db.session.add(notification)
    return notification

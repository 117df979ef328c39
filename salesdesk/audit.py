"""The audit log: one table and one helper that every feature records events with."""

from datetime import datetime

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .database import UTCDateTime
from .extensions import db

# action code -> label; features add theirs with register_actions().
ACTION_LABELS = {
    "login.success": _l("Logged in"),
    "login.failure": _l("Failed login"),
    "login.throttled": _l("Login refused: too many failures"),
    "logout": _l("Logged out"),
    "password.changed": _l("Changed password"),
    "user.created": _l("User created"),
    "user.updated": _l("User changed"),
    "user.deactivated": _l("User deactivated"),
    "user.reactivated": _l("User reactivated"),
    "team.created": _l("Team created"),
    "team.updated": _l("Team changed"),
}


def register_actions(labels):
    ACTION_LABELS.update(labels)


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject", "subject_type", "subject_id"),
        Index("ix_audit_events_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User")

    @property
    def label(self):
        return ACTION_LABELS.get(self.action, self.action)


_LOGGED_IN_USER = object()


def record(action, *, subject=None, actor=_LOGGED_IN_USER, **details):
    """Add an audit event to the current transaction (it commits with the change it records).

    The actor defaults to the logged-in user; None records the system (a job that runs
    during someone's request is not that person's doing). The subject is any model
    instance.
    """
    if subject is not None and subject.id is None:
        db.session.flush()
    if actor is _LOGGED_IN_USER:
        actor = current_user if has_request_context() and current_user.is_authenticated else None
    event = AuditEvent(
        at=clock.now(),
        action=action,
        actor_id=actor.id if actor is not None else None,
        subject_type=subject.__tablename__ if subject is not None else None,
        subject_id=subject.id if subject is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(event)
    return event

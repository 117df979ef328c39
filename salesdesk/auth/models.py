from datetime import datetime
from enum import StrEnum

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, and_, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock
from ..database import UTCDateTime
from ..extensions import db

DEFAULT_TIMEZONE = "Asia/Shanghai"


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"
    SUPPORT = "support"

    @property
    def label(self):
        return ROLE_LABELS[self]


# The roles that hold customers, claim from the pool and file collision reports.
Role.SELLERS = frozenset({Role.REP, Role.MANAGER})


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.MANAGER: _l("Sales manager"),
    Role.REP: _l("Sales rep"),
    Role.SUPPORT: _l("Sales support"),
}


def normalize_email(email):
    return (email or "").strip().lower()


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    members: Mapped[list["User"]] = relationship(back_populates="team")

    def __repr__(self):
        return f"<Team {self.id} {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'manager', 'rep', 'support')", name="role_known"),
        Index("ix_users_team_role_active", "team_id", "role", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index makes e-mail case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default=Role.REP)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans_CN")
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Bumped on password change, deactivation and "log out everywhere": every older
    # session and remember-me cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer list's columns this user chose, comma-separated; empty: the defaults
    # (see ledger.columns).
    list_columns: Mapped[str] = mapped_column(String(500), default="", server_default=text("''"))
    # A support user who leads the support queue of their team (of the whole company
    # when they have no team): they assign requests and are warned before breaches.
    support_lead: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    team: Mapped[Team | None] = relationship(back_populates="members")

    def __repr__(self):
        return f"<User {self.id} {self.email}>"

    @validates("email")
    def _normalize_email(self, _key, value):
        return normalize_email(value)

    # Flask-Login
    @property
    def is_active(self):
        return self.active

    # The login this request runs under (set by auth.services when a session starts
    # or is loaded): Flask-Login stores get_id() in the session and remember cookie.
    login_token = ""
    login_session_id = None

    def get_id(self):
        return f"{self.id}.{self.session_version}.{self.login_token}"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def role_label(self):
        return Role(self.role).label

    @property
    def is_admin(self):
        return self.role == Role.ADMIN

    @property
    def is_manager(self):
        return self.role == Role.MANAGER

    @hybrid_property
    def can_hold_customers(self):
        """An active rep or manager of a team: who may own, claim or receive a customer."""
        return self.active and self.role in Role.SELLERS and self.team_id is not None

    @can_hold_customers.inplace.expression
    @classmethod
    def _can_hold_customers_clause(cls):
        # The same, as SQL: pickers and imports list these people.
        return and_(cls.active.is_(True), cls.role.in_(sorted(Role.SELLERS)), cls.team_id.is_not(None))

    @property
    def timezone(self):
        return self.team.timezone if self.team else DEFAULT_TIMEZONE


class LoginFailure(db.Model):
    """One failed login. Kept in the database so every app process sees the count."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ip: Mapped[str | None] = mapped_column(String(45))


class UserSession(db.Model):
    """One login: its session cookie and remember-me cookie carry the token, the
    database keeps its hash, so that logging out ends that login on the server."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_ended", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

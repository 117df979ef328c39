"""Assignment and anti-collision rules: settings, team assignment strategies,
territories, reclaim extensions and collision reports."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..database import UTCDateTime
from ..extensions import db


class Strategy(StrEnum):
    POOL = "pool"
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    TERRITORY = "territory"

    @property
    def label(self):
        return STRATEGY_LABELS[self]


STRATEGY_LABELS = {
    Strategy.POOL: _l("Into the public pool"),
    Strategy.ROUND_ROBIN: _l("Round robin among active reps"),
    Strategy.LEAST_LOADED: _l("To the rep with the fewest active customers"),
    Strategy.TERRITORY: _l("By territory (region to rep), else the pool"),
}


class TeamAssignment(db.Model):
    """How a team's new leads find an owner; the round-robin cursor lives here so it
    is fair across restarts and processes."""

    __tablename__ = "team_assignments"
    __table_args__ = (
        CheckConstraint(
            "strategy IN ('pool', 'round_robin', 'least_loaded', 'territory')", name="strategy_known"
        ),
    )

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(16), default=Strategy.POOL)
    last_assigned_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    team = relationship("Team")


class Territory(db.Model):
    """Region -> rep within a team. An empty city covers the whole province."""

    __tablename__ = "territories"
    __table_args__ = (UniqueConstraint("team_id", "province", "city"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    province: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(30), default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    user = relationship("User")


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    DECLINED = "declined"


class Extension(db.Model):
    """延期申请: the owner asks for more days before the customer returns to the pool."""

    __tablename__ = "reclaim_extensions"
    __table_args__ = (Index("ix_reclaim_extensions_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    requested_days: Mapped[int]
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    status: Mapped[str] = mapped_column(String(16), default=ExtensionStatus.PENDING)
    granted_days: Mapped[int] = mapped_column(default=0)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(500), default="")

    customer = relationship("Customer")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class Decision(StrEnum):
    KEEP = "keep"
    TRANSFER = "transfer"
    COLLABORATE = "collaborate"

    @property
    def label(self):
        return DECISION_LABELS[self]


DECISION_LABELS = {
    Decision.KEEP: _l("Keep the owner"),
    Decision.TRANSFER: _l("Transfer to the reporter"),
    Decision.COLLABORATE: _l("Add the reporter as collaborator"),
}


class CollisionReport(db.Model):
    """撞单申诉: a rep says a customer they were working is theirs."""

    __tablename__ = "collision_reports"
    __table_args__ = (
        Index("ix_collision_reports_status_created", "status", "created_at"),
        Index("ix_collision_reports_customer", "customer_id"),
        CheckConstraint("status IN ('open', 'decided')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    reason: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="open")
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_note: Mapped[str] = mapped_column(String(2000), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer = relationship("Customer")
    reporter = relationship("User", foreign_keys=[reporter_id])
    owner = relationship("User", foreign_keys=[owner_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def decision_label(self):
        return Decision(self.decision).label if self.decision else ""

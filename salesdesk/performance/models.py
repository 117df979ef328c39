"""Targets (目标) per period and person or team, their history, the milestones already
announced, the weekly reports already sent and the follow-ups counted ahead."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..auth.models import Team, User
from ..database import Money, UTCDateTime
from ..extensions import db


class Measure(StrEnum):
    WON_AMOUNT = "won_amount"
    WON_COUNT = "won_count"
    NEW_CUSTOMERS = "new_customers"
    FOLLOW_UPS = "follow_ups"
    VISITS = "visits"

    @property
    def label(self):
        return MEASURE_LABELS[self]

    @property
    def is_money(self):
        return self == Measure.WON_AMOUNT


MEASURE_LABELS = {
    Measure.WON_AMOUNT: _l("Won amount"),
    Measure.WON_COUNT: _l("Deals won"),
    Measure.NEW_CUSTOMERS: _l("New customers"),
    Measure.FOLLOW_UPS: _l("Follow-ups"),
    Measure.VISITS: _l("Visits"),
}

# Larger targets are typing mistakes (a trillion yuan a month); the column holds them.
MAX_TARGET = Decimal(10) ** 12


class Target(db.Model):
    """One figure to reach: a person's (user_id set) or a whole team's (user_id empty)
    for one period and measure. A person's row keeps the team they were in when it was
    set, so a past period's table still shows who was in it."""

    __tablename__ = "targets"
    __table_args__ = (
        CheckConstraint("value >= 0", name="target_not_negative"),
        CheckConstraint(
            "measure IN ('won_amount', 'won_count', 'new_customers', 'follow_ups', 'visits')",
            name="target_measure_known",
        ),
        Index(
            "ux_targets_person",
            "period",
            "user_id",
            "measure",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "ux_targets_team",
            "period",
            "team_id",
            "measure",
            unique=True,
            sqlite_where=text("user_id IS NULL"),
            postgresql_where=text("user_id IS NULL"),
        ),
        Index("ix_targets_team_period", "team_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # 2026-12, 2026-Q4 or 2026
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    measure: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    team: Mapped[Team | None] = relationship()


class TargetChange(db.Model):
    """Who changed which target when (append-only): the history under the table."""

    __tablename__ = "target_changes"
    __table_args__ = (Index("ix_target_changes_period_at", "period", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    measure: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[Decimal | None] = mapped_column(Money)
    new_value: Mapped[Decimal | None] = mapped_column(Money)
    # Why a closed period's target was corrected (an admin must say).
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    @property
    def measure_label(self):
        return Measure(self.measure).label

    def shown(self, value):
        """A stored figure as the table writes it: 1200.00 for money, 12 for counts."""
        if value is None:
            return "–"
        return f"{value:.2f}" if Measure(self.measure).is_money else str(int(value))


class Milestone(db.Model):
    """A milestone (50 %, 100 %) of a person's target already announced: the primary key
    makes the announcement happen once, whichever process gets there first."""

    __tablename__ = "target_milestones"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    percent: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class WeeklyReport(db.Model):
    """The 每周协作报告 a manager received for a week (its figures as they were on the
    Monday): one per manager and week, by the primary key."""

    __tablename__ = "weekly_reports"

    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class FollowUpCount(db.Model):
    """Follow-ups counted ahead (follow_up_counts.py keeps them): how many an author
    logged in a local month of their team's zone, on a channel, whose previous
    follow-up of the same customer by them fell in `previous_month` (NEVER: none; kept
    as finely as periods can start, follow_up_counts.since).
    Every period is whole months of that zone, so a period's follow-ups, visits and
    customers touched (previous_month before the period) are sums of a few rows."""

    __tablename__ = "follow_up_counts"
    # Read by primary key ranges only: on SQLite the table is that index (no second lookup).
    __table_args__ = {"sqlite_with_rowid": False}

    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    previous_month: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class PerformanceSettings(db.Model):
    """The administrator's choices: one row (id 1); defaults until first saved."""

    __tablename__ = "performance_settings"
    __table_args__ = (CheckConstraint("id = 1", name="performance_single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    # Reps see their team's ranking by won amount on the board (PRODUCT.md: default on).
    reps_see_ranking: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


def performance_settings():
    return db.session.get(PerformanceSettings, 1) or PerformanceSettings(id=1, reps_see_ranking=True)


def save_settings(actor, reps_see_ranking):
    """Store the admin's choices (administrators only: the view checks access)."""
    settings = db.session.get(PerformanceSettings, 1)
    if settings is None:
        settings = PerformanceSettings(id=1)
        db.session.add(settings)
    settings.reps_see_ranking = bool(reps_see_ranking)
    settings.updated_at, settings.updated_by_id = clock.now(), actor.id
    return settings

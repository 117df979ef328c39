"""The points ledger (append-only), the summaries that keep the leaderboard fast, the
协作之星 badges and the recognition settings."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..database import UTCDateTime
from ..extensions import db
from ..ledger.models import Customer  # mapped before summaries.py aliases PointEntry at import


class Kind(StrEnum):
    AWARD = "award"  # a manager's award, from their monthly budget
    THANKS = "thanks"  # a colleague's thanks (感谢), from their small monthly budget
    AUTOMATIC = "auto"  # a system entry caused by an event (article helpful, customer won)
    REVERSAL = "reversal"  # an administrator's correction: cancels exactly one entry


KIND_LABELS = {
    Kind.AWARD: _l("Award"),
    Kind.THANKS: _l("Thanks"),
    Kind.AUTOMATIC: _l("Automatic points"),
    Kind.REVERSAL: _l("Reversal"),
}


class Category(StrEnum):
    FOLLOW_UP = "follow_up"
    KNOWLEDGE = "knowledge"
    MENTORING = "mentoring"
    DEAL = "deal"
    OTHER = "other"

    @property
    def label(self):
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.FOLLOW_UP: _l("Collaborative follow-up"),
    Category.KNOWLEDGE: _l("Knowledge contribution"),
    Category.MENTORING: _l("Helping new colleagues"),
    Category.DEAL: _l("Winning a tough customer"),
    Category.OTHER: _l("Other"),
}


class Cause(StrEnum):
    ARTICLE_HELPFUL = "article_helpful"
    CUSTOMER_WON = "customer_won"
    SUPPORT_RATED = "support_rated"  # a support request rated 5 stars (its id in cause_key)


# Reasons of system entries: stored in the default language, shown in the reader's.
def won_reason(customer_name):
    return _l("Collaborated on %(customer)s, which was won.", customer=customer_name)


def helpful_reason():
    return _l("An article marked helpful by a colleague.")


def support_reason():
    return _l("A colleague rated your support 5 stars.")


def _in(column, values):
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_known")


class PointEntry(db.Model):
    """One movement of points. Append-only: database triggers refuse UPDATE and DELETE
    (see migrations). A correction is a new negative entry (`reversal_of`)."""

    __tablename__ = "point_entries"
    __table_args__ = (
        _in("kind", [kind.value for kind in Kind]),
        _in("category", [category.value for category in Category]),
        # Only a reversal is negative, and it always names the entry it cancels.
        CheckConstraint(
            "(kind = 'reversal' AND points < 0 AND reversal_of_id IS NOT NULL) "
            "OR (kind <> 'reversal' AND points > 0 AND reversal_of_id IS NULL)",
            name="sign_matches_kind",
        ),
        CheckConstraint("reason <> ''", name="reason_given"),
        CheckConstraint("giver_id IS NOT NULL OR kind = 'auto'", name="only_system_without_giver"),
        # Summaries and the edges of a leaderboard period read by counted_at.
        Index("ix_point_entries_counted", "counted_at", "recipient_id", "points", "kind"),
        Index("ix_point_entries_recipient_counted", "recipient_id", "counted_at"),
        Index("ix_point_entries_recipient_id", "recipient_id", "id"),
        Index("ix_point_entries_giver_kind_counted", "giver_id", "kind", "counted_at"),
        Index("ix_point_entries_kind_id", "kind", "id"),
        Index("ix_point_entries_article_counted", "article_id", "counted_at"),
        Index("ix_point_entries_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # None: a system entry (automatic points).
    giver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("kb_articles.id"))
    cause: Mapped[str | None] = mapped_column(String(24))
    # Makes automatic points idempotent ("+10 once per customer"), whatever the race.
    cause_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    # Unique: an entry is reversed at most once.
    reversal_of_id: Mapped[int | None] = mapped_column(ForeignKey("point_entries.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # When the points count on the leaderboard: created_at, except for a reversal,
    # which counts when the entry it cancels did (as if that entry never happened).
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    recipient = relationship("User", foreign_keys=[recipient_id])
    giver = relationship("User", foreign_keys=[giver_id])
    customer = relationship(Customer)
    reversal_of = relationship("PointEntry", remote_side=[id], foreign_keys=[reversal_of_id])
    reversed_by = relationship(
        "PointEntry", foreign_keys=[reversal_of_id], uselist=False, viewonly=True, overlaps="reversal_of"
    )

    def __repr__(self):
        return f"<PointEntry {self.id} {self.kind} {self.points:+d} → {self.recipient_id}>"

    @property
    def category_label(self):
        return CATEGORY_LABELS[self.category]

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]

    @property
    def display_reason(self):
        """System entries speak the reader's language; people's reasons are shown as written."""
        if self.cause == Cause.CUSTOMER_WON:
            return won_reason(self.customer.name if self.customer else "—")
        if self.cause == Cause.ARTICLE_HELPFUL:
            return helpful_reason()
        if self.cause == Cause.SUPPORT_RATED:
            return support_reason()
        return self.reason

    @property
    def is_reversal(self):
        return self.kind == Kind.REVERSAL

    @property
    def is_system(self):
        return self.giver_id is None


class PointBucket(db.Model):
    """Points per user in aligned blocks of UTC days: level 0 is one day, level 1 eight
    days, level 2 sixty-four (`start` is the first day, counted from 1970-01-01, and a
    multiple of the block's length). Any range of whole days is a handful of blocks, so
    a quarter reads ~20 rows per user instead of ~90. Kept in the transaction of every
    entry (see summaries.py)."""

    __tablename__ = "point_buckets"
    __table_args__ = (
        CheckConstraint("level IN (0, 1, 2)", name="level_known"),
        # The leaderboard reads ranges of (level, start) for everyone; covering.
        Index("ix_point_buckets_range", "level", "start", "user_id", "points", "reached_at"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    start: Mapped[int] = mapped_column(primary_key=True)
    points: Mapped[int] = mapped_column(default=0)
    # The last time a still-valid entry in the block counted; None when all were reversed.
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PointTotal(db.Model):
    """Per user: all points ever, for the all-time board without summing every day."""

    __tablename__ = "point_totals"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MonthClosing(db.Model):
    """A closed month. Its primary key makes closing idempotent across processes."""

    __tablename__ = "month_closings"

    # First day of the month, in the company time zone.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    badge_count: Mapped[int] = mapped_column(default=0)


class StarBadge(db.Model):
    """协作之星: one of the top three (ties included) of a closed month."""

    __tablename__ = "star_badges"
    __table_args__ = (
        UniqueConstraint("user_id", "month"),
        Index("ix_star_badges_month", "month", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    month: Mapped[date] = mapped_column(Date, ForeignKey("month_closings.month"))
    rank: Mapped[int]
    points: Mapped[int]
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User")


class RecognitionSettings(db.Model):
    """The administrator's rule parameters: one row (id 1); defaults until first saved."""

    __tablename__ = "recognition_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    award_monthly_budget: Mapped[int] = mapped_column(default=500)
    award_max_points: Mapped[int] = mapped_column(default=50)
    thanks_monthly_budget: Mapped[int] = mapped_column(default=20)
    thanks_max_points: Mapped[int] = mapped_column(default=5)
    thanks_per_colleague_weekly: Mapped[int] = mapped_column(default=2)
    helpful_enabled: Mapped[bool] = mapped_column(default=True)
    helpful_points: Mapped[int] = mapped_column(default=1)
    helpful_monthly_cap: Mapped[int] = mapped_column(default=5)
    won_enabled: Mapped[bool] = mapped_column(default=True)
    won_points: Mapped[int] = mapped_column(default=10)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    FIELDS = (
        "award_monthly_budget",
        "award_max_points",
        "thanks_monthly_budget",
        "thanks_max_points",
        "thanks_per_colleague_weekly",
        "helpful_enabled",
        "helpful_points",
        "helpful_monthly_cap",
        "won_enabled",
        "won_points",
    )

    @classmethod
    def defaults(cls):
        """A transient row holding the column defaults."""
        return cls(id=1, **{name: cls.__table__.c[name].default.arg for name in cls.FIELDS})

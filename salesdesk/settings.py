"""The company's rule settings (公海, reclaim, limits, duplicate check, who exports): one
row, read by the ledger and the rules, changed on the rules' admin page."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .database import UTCDateTime
from .extensions import db

# Defaults from the product specification; every one is an admin setting.
DEFAULTS = {
    "max_active_per_rep": 200,
    "claims_per_day": 20,
    "follow_up_days": 15,
    "deal_days": 90,
    "warning_days": 3,
    "cooldown_days": 30,
    "similarity_percent": 85,
    "export_scope": "managers",
}
# Who may export the customer list (ledger/access.py decides from this).
EXPORT_SCOPES = {
    "managers": _l("Managers and administrators; reps only the customers they own"),
    "everyone": _l("Everyone, what they may see in the list"),
    "admins": _l("Administrators only"),
}


class RuleSettings(db.Model):
    """One row: the company's rule settings."""

    __tablename__ = "rule_settings"
    __table_args__ = (
        CheckConstraint("max_active_per_rep > 0 AND claims_per_day > 0", name="limits_positive"),
        CheckConstraint(
            "follow_up_days > 0 AND deal_days > 0 AND warning_days >= 0", name="periods_positive"
        ),
        CheckConstraint("similarity_percent BETWEEN 50 AND 100", name="similarity_range"),
        CheckConstraint("export_scope IN ('managers', 'everyone', 'admins')", name="export_scope_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    max_active_per_rep: Mapped[int] = mapped_column(default=DEFAULTS["max_active_per_rep"])
    claims_per_day: Mapped[int] = mapped_column(default=DEFAULTS["claims_per_day"])
    follow_up_days: Mapped[int] = mapped_column(default=DEFAULTS["follow_up_days"])
    deal_days: Mapped[int] = mapped_column(default=DEFAULTS["deal_days"])
    warning_days: Mapped[int] = mapped_column(default=DEFAULTS["warning_days"])
    cooldown_days: Mapped[int] = mapped_column(default=DEFAULTS["cooldown_days"])
    similarity_percent: Mapped[int] = mapped_column(default=DEFAULTS["similarity_percent"])
    export_scope: Mapped[str] = mapped_column(
        String(20), default=DEFAULTS["export_scope"], server_default=DEFAULTS["export_scope"]
    )
    # {"A": {"follow_up_days": 30, "deal_days": 180}, ...}: grades that differ.
    grade_periods: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def periods_for(self, grade):
        """(days without follow-up, days without a win) for a customer of this grade."""
        override = (self.grade_periods or {}).get(grade) or {}
        return (
            int(override.get("follow_up_days") or self.follow_up_days),
            int(override.get("deal_days") or self.deal_days),
        )

    def reclaim_horizon(self, now):
        """Customers whose reclaim date is at or before this return to the pool soon:
        the one boundary of the warning window, for SQL filters and for `returns_soon`."""
        return now + timedelta(days=self.warning_days)

    def returns_soon(self, reclaim_at, now):
        """Inside the warning window (or overdue, awaiting the next reclaim run)."""
        return reclaim_at is not None and reclaim_at <= self.reclaim_horizon(now)

    def countdown(self, reclaim_at, now):
        """What a page shows next to a reclaim date, or None for a customer that does not
        return to the pool."""
        if reclaim_at is None:
            return None
        return Countdown(days=(reclaim_at - now).days, soon=self.returns_soon(reclaim_at, now))


@dataclass(frozen=True)
class Countdown:
    """Whole days until a customer returns to the pool (negative: overdue), and whether
    that is soon enough to warn about."""

    days: int
    soon: bool

    @property
    def due(self):
        return self.days < 0


def current():
    """The settings (defaults until an admin saves), read once per request."""
    cached = g.get("rule_settings") if has_app_context() else None
    if cached is None:
        cached = db.session.get(RuleSettings, 1) or RuleSettings(id=1, grade_periods={}, **DEFAULTS)
        if has_app_context():
            g.rule_settings = cached
    return cached


def forget():
    """After a change: the next read loads the new values."""
    g.pop("rule_settings", None)

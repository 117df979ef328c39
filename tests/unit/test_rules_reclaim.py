"""Reclaim on the services: owners are warned once when a customer enters the warning
window (its boundary included), and overdue customers return to the pool."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from salesdesk.extensions import db
from salesdesk.ledger.models import Collaborator, OwnershipChange
from salesdesk.notifications import Notification
from salesdesk.rules import reclaim
from salesdesk.settings import DEFAULTS
from tests.fixtures.ledger import make_customer

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
WARNING = timedelta(days=DEFAULTS["warning_days"])


@pytest.fixture
def owned(world, frozen_clock):
    frozen_clock(T0)
    customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
    assert customer.reclaim_at == T0 + timedelta(days=DEFAULTS["follow_up_days"])
    return customer


def notifications(user, kind):
    return db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
    ).all()


class TestWarnings:
    def test_one_second_before_the_window_nobody_is_warned(self, world, owned, frozen_clock):
        frozen_clock(owned.reclaim_at - WARNING - timedelta(seconds=1))
        assert reclaim.warn_due() == 0

    def test_at_the_edge_of_the_window_the_owner_is_warned_once(self, world, owned, frozen_clock):
        frozen_clock(owned.reclaim_at - WARNING)
        assert reclaim.warn_due() == 1
        assert reclaim.warn_due() == 0
        warning = notifications(world.rep_a, "reclaim.warning")
        assert len(warning) == 1 and warning[0].link == f"/customers/{owned.id}"

    def test_a_new_deadline_warns_again(self, world, owned, frozen_clock):
        frozen_clock(owned.reclaim_at - WARNING)
        reclaim.warn_due()
        owned.extension_days = 5
        owned.reclaim_at += timedelta(days=5)
        db.session.commit()
        frozen_clock(owned.reclaim_at - WARNING)
        assert reclaim.warn_due() == 1

    def test_overdue_customers_are_reclaimed_not_warned(self, owned, frozen_clock):
        frozen_clock(owned.reclaim_at)
        assert reclaim.warn_due() == 0


class TestReclaim:
    def test_not_before_the_date(self, owned, frozen_clock):
        frozen_clock(owned.reclaim_at - timedelta(seconds=1))
        assert reclaim.reclaim_due() == 0 and not owned.in_pool

    def test_at_the_date_the_customer_returns_with_the_rule_recorded(self, world, owned, frozen_clock):
        frozen_clock(owned.reclaim_at)
        assert reclaim.run_reclaim() == (0, 1)
        db.session.refresh(owned)
        assert owned.in_pool and owned.reclaim_at is None and owned.extension_days == 0
        change = db.session.scalars(
            select(OwnershipChange)
            .where(OwnershipChange.customer_id == owned.id)
            .order_by(OwnershipChange.id.desc())
        ).first()
        assert (change.from_user_id, change.to_user_id, change.reason) == (
            world.rep_a.id,
            None,
            "reclaim_no_follow_up",
        )
        assert (
            db.session.scalars(select(Collaborator).where(Collaborator.customer_id == owned.id)).all() == []
        )
        assert len(notifications(world.rep_a, "reclaim.done")) == 1
        assert reclaim.reclaim_due() == 0  # idempotent

    def test_won_customers_stay(self, world, frozen_clock):
        frozen_clock(T0)
        won = make_customer(world.rep_a, "赢单客户有限公司", stage="won")
        frozen_clock(T0 + timedelta(days=400))
        assert reclaim.reclaim_due() == 0 and won.owner_id == world.rep_a.id

    def test_the_rule_labels_cover_every_reason(self):
        assert set(reclaim.RULE_LABELS) == set(reclaim.RECLAIM_REASONS)

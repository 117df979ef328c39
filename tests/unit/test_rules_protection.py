"""Protection periods on the services: when a customer returns to the pool, and the one
boundary of "returns to the pool soon" that lists, the workbench and warnings share."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from salesdesk import settings
from salesdesk.extensions import db
from salesdesk.ledger.models import Stage
from salesdesk.rules.protection import deadline
from salesdesk.rules.settings import update_settings
from salesdesk.settings import DEFAULTS, RuleSettings
from tests.fixtures.ledger import make_customer

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def rules():
    return RuleSettings(id=1, grade_periods={"A": {"follow_up_days": 30}}, **DEFAULTS)


class TestReturnsSoon:
    def test_exactly_at_the_end_of_the_warning_window_is_soon(self, rules):
        assert rules.returns_soon(NOW + timedelta(days=rules.warning_days), NOW)

    def test_one_second_later_is_not(self, rules):
        assert not rules.returns_soon(NOW + timedelta(days=rules.warning_days, seconds=1), NOW)

    def test_overdue_is_soon_and_no_date_is_never(self, rules):
        assert rules.returns_soon(NOW - timedelta(days=2), NOW)
        assert not rules.returns_soon(None, NOW)

    def test_the_sql_filters_use_the_same_horizon(self, rules):
        assert rules.reclaim_horizon(NOW) == NOW + timedelta(days=3)


class TestCountdown:
    def test_days_left_and_soon_come_from_one_place(self, rules):
        at_edge = rules.countdown(NOW + timedelta(days=3), NOW)
        assert (at_edge.days, at_edge.soon, at_edge.due) == (3, True, False)
        later = rules.countdown(NOW + timedelta(days=3, seconds=1), NOW)
        assert (later.days, later.soon) == (3, False)

    def test_overdue_is_due(self, rules):
        overdue = rules.countdown(NOW - timedelta(hours=1), NOW)
        assert overdue.due and overdue.soon and overdue.days == -1

    def test_no_reclaim_date_no_countdown(self, rules):
        assert rules.countdown(None, NOW) is None


def row(**fields):
    values = {
        "owner_id": 7,
        "stage": Stage.LEAD,
        "deleted_at": None,
        "grade": "C",
        "owned_since": NOW,
        "created_at": NOW - timedelta(days=100),
        "last_follow_up_at": None,
        "extension_days": 0,
    }
    return SimpleNamespace(**{**values, **fields})


class TestDeadline:
    def test_a_fresh_claim_gets_a_full_follow_up_period(self, rules):
        # A follow-up before this ownership does not count.
        at, rule = deadline(row(last_follow_up_at=NOW - timedelta(days=10)), rules)
        assert (at, rule) == (NOW + timedelta(days=15), "reclaim_no_follow_up")

    def test_the_deal_period_fires_when_it_ends_first(self, rules):
        at, rule = deadline(row(owned_since=NOW - timedelta(days=80), last_follow_up_at=NOW), rules)
        assert (at, rule) == (NOW + timedelta(days=10), "reclaim_no_deal")

    def test_extensions_and_grades_lengthen_the_period(self, rules):
        assert deadline(row(extension_days=7), rules)[0] == NOW + timedelta(days=22)
        assert deadline(row(grade="A"), rules)[0] == NOW + timedelta(days=30)

    @pytest.mark.parametrize(
        "fields",
        [{"owner_id": None}, {"stage": Stage.WON}, {"deleted_at": NOW}],
        ids=["pool", "won", "trash"],
    )
    def test_pool_won_and_deleted_customers_never_return(self, rules, fields):
        assert deadline(row(**fields), rules) == (None, None)


def test_a_customer_gets_its_date_when_it_changes_and_again_when_the_rules_do(world, frozen_clock):
    frozen_clock(NOW)
    customer = make_customer(world.rep_a)
    pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
    assert (customer.reclaim_at, customer.reclaim_rule) == (NOW + timedelta(days=15), "reclaim_no_follow_up")
    assert pooled.reclaim_at is None
    update_settings(world.admin, {**DEFAULTS, "follow_up_days": 20}, {})
    assert settings.current().follow_up_days == 20
    db.session.refresh(customer)
    assert customer.reclaim_at == NOW + timedelta(days=20)

"""Collision reports on the services: who may file one, what the deciding manager sees,
and what each decision does to the customer."""

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from salesdesk.errors import DomainError, Forbidden, NotFound
from salesdesk.extensions import db
from salesdesk.ledger import followups
from salesdesk.ledger.models import Collaborator, CollaboratorStatus
from salesdesk.notifications import Notification
from salesdesk.rules import collisions
from salesdesk.rules.collisions import ReportFilters
from tests.fixtures.ledger import make_customer


@pytest.fixture
def disputed(world):
    customer = make_customer(world.rep_a, "撞单客户有限公司")
    followups.log_follow_up(world.rep_a, customer.id, channel="visit", content="上门拜访周总")
    return customer


@pytest.fixture
def report(world, disputed):
    return collisions.file_collision(world.rep_a2, disputed.id, "我上个月就拜访过")


def told(kind):
    return set(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


class TestFiling:
    def test_the_owner_and_the_deciding_manager_are_told(self, world, report):
        assert report.status == "open" and report.owner_id == world.rep_a.id
        assert told("collision.filed") == {world.rep_a.id, world.manager_a.id}

    def test_one_open_report_per_reporter(self, world, disputed, report):
        with pytest.raises(DomainError):
            collisions.file_collision(world.rep_a2, disputed.id, "再说一次")

    def test_not_on_the_pool_not_on_ones_own_not_by_support(self, world, disputed):
        pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
        with pytest.raises(DomainError):
            collisions.file_collision(world.rep_a2, pooled.id, "x")
        with pytest.raises(DomainError):
            collisions.file_collision(world.rep_a, disputed.id, "x")
        with pytest.raises(Forbidden):
            collisions.file_collision(world.support_a, disputed.id, "x")

    @pytest.mark.parametrize("reason", ["", "长" * (collisions.MAX_REASON + 1)])
    def test_the_reason_is_required_and_bounded(self, world, disputed, reason):
        with pytest.raises(DomainError) as refused:
            collisions.file_collision(world.rep_a2, disputed.id, reason)
        assert refused.value.field == "reason"


class TestLists:
    def test_filters_from_the_query_string(self):
        assert ReportFilters.from_args(MultiDict({"status": "decided", "team": "2"})) == ReportFilters(
            "decided", 2
        )
        assert ReportFilters.from_args(MultiDict({"status": "bogus", "team": "-1"})) == ReportFilters()

    def test_who_sees_which_reports(self, world, report):
        open_reports = ReportFilters()
        assert collisions.reports_for(world.manager_a, open_reports) == [report]
        assert collisions.reports_for(world.manager_b, open_reports) == []
        assert collisions.count_reports(world.admin, open_reports) == 1
        assert collisions.count_reports(world.admin, ReportFilters(team_id=world.team_b.id)) == 0
        assert collisions.count_reports(world.manager_a, ReportFilters("decided")) == 0
        assert collisions.open_reports_involving(world.rep_a2, 8) == [report]

    def test_get_report_for(self, world, report):
        assert collisions.get_report_for(world.rep_a, report.id) == report
        with pytest.raises(Forbidden):
            collisions.get_report_for(world.rep_b, report.id)
        with pytest.raises(NotFound):
            collisions.get_report_for(world.admin, 999_999)

    def test_the_evidence_shows_texts_only_to_those_who_read_the_timeline(self, world, report):
        assert collisions.evidence(report, world.manager_a)["owner"]["first"].text == "上门拜访周总"
        seen_by_reporter = collisions.evidence(report, world.rep_a2)
        assert seen_by_reporter["owner"]["count"] == 1 and seen_by_reporter["owner"]["first"].text is None


class TestDecision:
    def test_a_transfer_gives_the_customer_to_the_reporter(self, world, disputed, report):
        collisions.decide_collision(world.manager_a, report.id, "transfer", "跟进记录更早")
        assert disputed.owner_id == world.rep_a2.id and report.status == "decided"
        assert told("collision.decided") == {world.rep_a.id, world.rep_a2.id}

    def test_collaborate_adds_the_reporter(self, world, disputed, report):
        collisions.decide_collision(world.manager_a, report.id, "collaborate", "一起跟")
        collaboration = db.session.scalar(select(Collaborator).where(Collaborator.customer_id == disputed.id))
        assert (collaboration.user_id, collaboration.status) == (world.rep_a2.id, CollaboratorStatus.ACTIVE)
        assert disputed.owner_id == world.rep_a.id

    def test_keep_changes_nothing_and_a_report_is_decided_once(self, world, disputed, report):
        collisions.decide_collision(world.manager_a, report.id, "keep", "原负责人跟进更多")
        assert disputed.owner_id == world.rep_a.id
        with pytest.raises(DomainError):
            collisions.decide_collision(world.manager_a, report.id, "transfer", "改主意")

    @pytest.mark.parametrize(
        ("decision", "note", "field"), [("bogus", "x", "decision"), ("keep", "", "note")]
    )
    def test_a_decision_and_its_reason_are_required(self, world, report, decision, note, field):
        with pytest.raises(DomainError) as refused:
            collisions.decide_collision(world.manager_a, report.id, decision, note)
        assert refused.value.field == field

    def test_never_a_party_nor_another_team(self, world, report):
        for user in (world.rep_a, world.rep_a2, world.manager_b):
            with pytest.raises(Forbidden):
                collisions.decide_collision(user, report.id, "keep", "x")

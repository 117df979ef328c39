"""Extensions on the services: the owner asks before the date, the owner's manager (never
the one who asked) grants or declines, and a grant moves the reclaim date."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from salesdesk.errors import DomainError, Forbidden, NotFound
from salesdesk.extensions import db
from salesdesk.notifications import Notification
from salesdesk.rules import extensions
from salesdesk.rules.models import ExtensionStatus
from tests.fixtures.ledger import make_customer

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def owned(world, frozen_clock):
    frozen_clock(T0)
    return make_customer(world.rep_a)


def notified(user, kind):
    return db.session.scalars(
        select(Notification.user_id).where(Notification.user_id == user.id, Notification.kind == kind)
    ).all()


class TestRequest:
    def test_the_owner_asks_and_the_manager_is_told(self, world, owned):
        extension = extensions.request_extension(world.rep_a, owned.id, 10, "客户预算下月审批")
        assert extension.status == ExtensionStatus.PENDING and extension.requested_days == 10
        assert notified(world.manager_a, "extension.requested") and not notified(
            world.manager_b, "extension.requested"
        )
        with pytest.raises(DomainError):
            extensions.request_extension(world.rep_a, owned.id, 5, "再等等")  # one waits at a time

    def test_a_manager_asking_on_their_own_customer_goes_to_the_administrators(self, world, frozen_clock):
        frozen_clock(T0)
        theirs = make_customer(world.manager_a, "经理客户有限公司")
        extensions.request_extension(world.manager_a, theirs.id, 5, "客户出差")
        assert notified(world.admin, "extension.requested")

    @pytest.mark.parametrize(
        ("days", "reason", "field"),
        [
            (0, "x", "days"),
            (extensions.MAX_EXTENSION_DAYS + 1, "x", "days"),
            (5, "", "reason"),
            (5, "长" * (extensions.MAX_REASON + 1), "reason"),
        ],
    )
    def test_days_and_reason_are_bounded(self, world, owned, days, reason, field):
        with pytest.raises(DomainError) as refused:
            extensions.request_extension(world.rep_a, owned.id, days, reason)
        assert refused.value.field == field

    def test_only_the_owner_and_only_before_the_date(self, world, owned, frozen_clock):
        with pytest.raises(Forbidden):
            extensions.request_extension(world.rep_a2, owned.id, 5, "x")
        frozen_clock(owned.reclaim_at)
        with pytest.raises(DomainError):
            extensions.request_extension(world.rep_a, owned.id, 5, "x")


class TestDecision:
    def test_a_grant_moves_the_reclaim_date(self, world, owned):
        extension = extensions.request_extension(world.rep_a, owned.id, 10, "客户预算下月审批")
        before = owned.reclaim_at
        extensions.decide_extension(world.manager_a, extension.id, grant=True, days=7, note="同意")
        assert extension.status == ExtensionStatus.GRANTED and extension.granted_days == 7
        assert owned.extension_days == 7 and owned.reclaim_at == before + timedelta(days=7)
        assert notified(world.rep_a, "extension.granted")
        with pytest.raises(DomainError):
            extensions.decide_extension(world.manager_a, extension.id, grant=False)

    def test_a_decline_changes_nothing_but_the_request(self, world, owned):
        extension = extensions.request_extension(world.rep_a, owned.id, 10, "理由")
        before = owned.reclaim_at
        extensions.decide_extension(world.manager_a, extension.id, grant=False, note="请先跟进")
        assert extension.status == ExtensionStatus.DECLINED and owned.reclaim_at == before
        assert notified(world.rep_a, "extension.declined")

    def test_a_grant_needs_its_days(self, world, owned):
        extension = extensions.request_extension(world.rep_a, owned.id, 10, "理由")
        with pytest.raises(DomainError) as refused:
            extensions.decide_extension(world.manager_a, extension.id, grant=True, days=0)
        assert refused.value.field == "days"

    def test_who_decides(self, world, owned):
        extension = extensions.request_extension(world.rep_a, owned.id, 10, "理由")
        for user in (world.rep_a, world.rep_a2, world.manager_b):
            with pytest.raises(Forbidden):
                extensions.get_extension_for(user, extension.id)
        assert extensions.get_extension_for(world.admin, extension.id) == extension
        with pytest.raises(NotFound):
            extensions.get_extension_for(world.manager_a, 999_999)
        assert extensions.pending_extensions(world.manager_a) == [extension]
        assert extensions.pending_extensions(world.manager_b) == []

    def test_a_request_lapses_when_the_owner_changes(self, world, owned):
        extension = extensions.request_extension(world.rep_a, owned.id, 10, "理由")
        owned.owner_id = world.rep_a2.id
        db.session.commit()
        with pytest.raises(DomainError):
            extensions.decide_extension(world.manager_a, extension.id, grant=True, days=5)

"""Budgets hold under parallel requests: real HTTP requests from many threads against the
live server (one connection each, as from several browsers), on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select

from salesdesk.extensions import db
from salesdesk.recognition.models import PointEntry
from tests.fixtures.recognition import assert_summaries_exact, gift_form
from tests.helpers import browser_session, post_all_at_once

pytestmark = pytest.mark.usefixtures("mid_november")


def given(giver):
    db.session.rollback()
    return db.session.scalar(
        select(func.coalesce(func.sum(PointEntry.points), 0)).where(PointEntry.giver_id == giver.id)
    )


def test_parallel_awards_cannot_overspend_the_budget(app, world, live_server):
    manager = browser_session(app, world.manager_a)
    recipients = [world.rep_a, world.rep_a2, world.support_a, world.rep_b]
    requests = [
        ("/recognition/award", gift_form(recipients[i % 4], 50, "deal", "并发测试"), manager)
        for i in range(16)
    ]
    statuses = post_all_at_once(live_server, requests)
    assert sorted(statuses) == [303] * 10 + [422] * 6
    assert given(world.manager_a) == 500
    assert_summaries_exact()


def test_parallel_thanks_keep_the_budget_and_the_weekly_limit(app, world, live_server):
    rep = browser_session(app, world.rep_a)
    # Twelve thanks of 5 points to four colleagues: the budget of 20 allows four.
    colleagues = [world.rep_a2, world.support_a, world.manager_a, world.rep_b]
    statuses = post_all_at_once(
        live_server,
        [("/recognition/thank", gift_form(colleagues[i % 4], 5, "other", "谢谢"), rep) for i in range(12)],
    )
    assert statuses.count(303) == 4 and statuses.count(422) == 8
    assert given(world.rep_a) == 20
    # Eight thanks of 1 point to one colleague at once: twice a week, no more.
    other = browser_session(app, world.rep_a2)
    statuses = post_all_at_once(
        live_server,
        [("/recognition/thank", gift_form(world.rep_b, 1, "other", "谢谢"), other)] * 8,
    )
    assert statuses.count(303) == 2 and statuses.count(422) == 6
    assert given(world.rep_a2) == 2
    assert_summaries_exact()


def test_parallel_reversals_of_one_entry_reverse_it_once(app, world, live_server):
    from tests.fixtures.recognition import award

    entry = award(world.manager_a, world.rep_a, 40)
    admin = browser_session(app, world.admin)
    statuses = post_all_at_once(
        live_server, [(f"/recognition/entries/{entry.id}/reverse", {"reason": "撤销"}, admin)] * 6
    )
    assert statuses.count(303) == 1 and statuses.count(409) == 5
    db.session.rollback()
    assert (
        db.session.scalar(
            select(func.sum(PointEntry.points)).where(PointEntry.recipient_id == world.rep_a.id)
        )
        == 0
    )
    assert_summaries_exact()

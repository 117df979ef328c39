"""有用 / 没用: one vote per user and article, changeable; the signal the recognition
feature listens to; the editors' lists of least helpful and stale articles."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from salesdesk import signals
from salesdesk.errors import DomainError, NotFound
from salesdesk.extensions import db
from salesdesk.kb import feedback
from salesdesk.kb.models import Vote
from tests.fixtures.kb import edit, write


@pytest.fixture
def received():
    calls = []

    def receiver(sender, **kwargs):
        # Runs inside the vote's transaction: the vote is already flushed.
        kwargs["votes_in_transaction"] = db.session.scalar(select(func.count()).select_from(Vote))
        calls.append((sender, kwargs))

    signals.article_voted.connect(receiver)
    yield calls
    signals.article_voted.disconnect(receiver)


def test_one_vote_per_user_which_can_change(world, article, received):
    feedback.vote(article, user=world.rep_a, helpful=True)
    feedback.vote(article, user=world.rep_a, helpful=False, comment="有效期写错了")
    feedback.vote(article, user=world.rep_a2, helpful=True)
    assert feedback.vote_counts(article) == (1, 1)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 2
    assert feedback.vote_of(article, world.rep_a).comment == "有效期写错了"
    assert [(call[0], call[1]["voter"], call[1]["helpful"], call[1]["previous"]) for call in received] == [
        (article, world.rep_a, True, None),
        (article, world.rep_a, False, True),
        (article, world.rep_a2, True, None),
    ]
    assert received[0][1]["votes_in_transaction"] == 1


def test_a_failing_receiver_rolls_the_vote_back(world, article):
    def broken(sender, **kwargs):
        raise RuntimeError("points ledger unavailable")

    signals.article_voted.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            feedback.vote(article, user=world.rep_a, helpful=True)
    finally:
        signals.article_voted.disconnect(broken)
    assert feedback.vote_counts(article) == (0, 0)


def test_votes_need_a_readable_article_and_a_short_comment(world, article, draft):
    with pytest.raises(NotFound):
        feedback.vote(draft, user=world.rep_a, helpful=True)
    with pytest.raises(DomainError):
        feedback.vote(article, user=world.rep_a, helpful=True, comment="长" * 501)


def test_least_helpful_first(world, article):
    good = write(world.admin, "好文章", "内容")
    for user in (world.rep_a, world.rep_a2):
        feedback.vote(good, user=user, helpful=True)
    feedback.vote(article, user=world.rep_a, helpful=False, comment="不清楚")
    feedback.vote(article, user=world.rep_a2, helpful=True)
    report = feedback.helpfulness_report()
    assert [(row.article.title, row.helpful, row.unhelpful, row.share) for row in report] == [
        ("报价单填写规范", 1, 1, 50),
        ("好文章", 2, 0, 100),
    ]


def test_stale_articles(world, frozen_clock):
    frozen_clock(datetime(2026, 1, 5, tzinfo=UTC))
    old = write(world.admin, "旧文章", "内容")
    fresh = write(world.admin, "新文章", "内容")
    frozen_clock(datetime(2026, 5, 1, tzinfo=UTC))
    edit(fresh, world.admin, body="更新过")
    frozen_clock(datetime(2026, 8, 1, tzinfo=UTC))
    assert feedback.stale_articles(6) == [old]
    assert feedback.stale_articles(3) == [old, fresh]  # fresh: changed three months ago
    frozen_clock(datetime(2026, 8, 1, tzinfo=UTC) + timedelta(days=365))
    assert feedback.stale_articles(12) == [old, fresh]

"""Automatic points, driven through the signals the ledger and the knowledge base send:
+1 for an article marked helpful by someone else (at most 5 per article and month),
+10 for each active collaborator of a customer that is won (once per customer)."""

import pytest
from sqlalchemy import select

from salesdesk import signals
from salesdesk.auth import services as accounts
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.ledger.models import Collaborator
from salesdesk.notifications import Notification
from salesdesk.recognition import settings
from salesdesk.recognition.entries import reverse_entry
from salesdesk.recognition.models import PointEntry, RecognitionSettings
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import (
    article,
    assert_summaries_exact,
    entry_count,
    local,
    points_of,
)
from tests.helpers import make_user

pytestmark = pytest.mark.usefixtures("mid_november")


def vote(article, voter, helpful=True, previous=None):
    signals.article_voted.send(article, voter=voter, helpful=helpful, previous=previous)


def won(customer, actor=None):
    signals.customer_won.send(customer, actor=actor)


def change_settings(admin, **changes):
    defaults = settings.get_settings()
    values = {name: getattr(defaults, name) for name in RecognitionSettings.FIELDS}
    settings.update_settings(admin, **{**values, **changes})


@pytest.fixture
def voters(world):
    return [make_user(f"voter{i}@test.example", "rep", world.team_b, f"同事{i}") for i in range(7)]


# ---- helpful articles -----------------------------------------------------------------


def test_an_article_marked_helpful_by_a_colleague_earns_its_author_a_point(world):
    helpful = article(7, world.support_a)
    vote(helpful, world.rep_a)
    entry = db.session.scalars(select(PointEntry)).one()
    assert (entry.recipient_id, entry.giver_id, entry.points) == (world.support_a.id, None, 1)
    assert (entry.kind, entry.category, entry.cause, entry.article_id) == (
        "auto",
        "knowledge",
        "article_helpful",
        helpful.id,
    )
    assert entry.reason == "文章被同事标记为有用。"
    notification = db.session.scalars(select(Notification)).one()
    assert notification.user_id == world.support_a.id
    assert notification.message == "+1 积分：同事认为你的文章有用"


def test_no_point_for_marking_your_own_article_or_for_not_helpful(world):
    vote(article(7, world.support_a), world.support_a)
    vote(article(7, world.support_a), world.rep_a, helpful=False)
    vote(article(7, world.support_a), world.rep_a, helpful=True, previous=True)  # only re-confirmed
    assert entry_count() == 0


def test_each_colleague_counts_once_per_article(world):
    for helpful in (True, False, True, True):
        vote(article(7, world.support_a), world.rep_a, helpful=helpful)
    assert points_of(world.support_a) == 1


def test_at_most_five_points_per_article_and_month(world, voters, frozen_clock):
    for voter in voters:
        vote(article(7, world.support_a), voter)
    assert points_of(world.support_a) == 5
    vote(article(8, world.support_a), world.rep_a)  # another article has its own cap
    assert points_of(world.support_a) == 6
    frozen_clock(local(2026, 12, 1, 9))
    vote(article(7, world.support_a), world.rep_a)  # a new month, a new cap
    assert points_of(world.support_a) == 7
    assert_summaries_exact()


def test_the_cap_counts_points_not_votes(world, voters):
    change_settings(world.admin, helpful_points=2)
    for voter in voters:
        vote(article(7, world.support_a), voter)
    assert points_of(world.support_a) == 4


def test_helpful_points_can_be_switched_off(world):
    change_settings(world.admin, helpful_enabled=False)
    vote(article(7, world.support_a), world.rep_a)
    assert entry_count() == 0


def test_no_points_for_a_deactivated_author_or_an_article_without_author(world):
    accounts.deactivate_user(world.support_a, actor=world.admin)
    vote(article(7, world.support_a), world.rep_a)
    vote(type("Article", (), {"id": 9, "author_id": None})(), world.rep_a)
    assert entry_count() == 0


# ---- won customers --------------------------------------------------------------------


def test_active_collaborators_of_a_won_customer_get_ten_points_once(world):
    customer = make_customer(
        world.rep_a, collaborators=[world.rep_a2, world.support_a], requested=[world.rep_b]
    )
    won(customer, world.rep_a)
    won(customer, world.rep_a)  # sent again (reopened and won again): still once
    entries = db.session.scalars(select(PointEntry).order_by(PointEntry.recipient_id)).all()
    assert [(e.recipient_id, e.points, e.customer_id) for e in entries] == [
        (world.rep_a2.id, 10, customer.id),
        (world.support_a.id, 10, customer.id),
    ]
    assert {e.category for e in entries} == {"deal"} and {e.cause for e in entries} == {"customer_won"}
    assert str(entries[0].display_reason) == "协作的客户 苏州恒达精密机械有限公司 已赢单。"
    assert points_of(world.rep_a) == 0 and points_of(world.rep_b) == 0  # the owner; a request only
    messages = db.session.scalars(select(Notification.kind)).all()
    assert messages == ["points.customer_won", "points.customer_won"]


def test_colleagues_added_after_the_win_get_nothing_when_it_is_won_again(world):
    """Found by the hardening probe: an owner added a colleague to a won customer, moved
    it back to 商务谈判 and to 赢单 again, and the colleague got 10 points each time."""
    customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
    won(customer, world.rep_a)
    newcomer = make_user("newcomer@test.example", "rep", world.team_a, "新同事")
    with write_transaction() as session:
        session.add(Collaborator(customer_id=customer.id, user_id=newcomer.id, status="active"))
    won(customer, world.rep_a)
    assert points_of(world.rep_a2) == 10 and points_of(newcomer) == 0


def test_won_points_follow_the_settings(world):
    customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
    change_settings(world.admin, won_enabled=False)
    won(customer)
    assert entry_count() == 0
    change_settings(world.admin, won_enabled=True, won_points=25)
    won(customer)
    assert points_of(world.rep_a2) == 25


def test_deactivated_collaborators_get_nothing(world):
    customer = make_customer(world.rep_a, collaborators=[world.rep_a2, world.support_a])
    accounts.deactivate_user(world.rep_a2, actor=world.admin)
    won(customer)
    assert points_of(world.rep_a2) == 0 and points_of(world.support_a) == 10


def test_points_roll_back_with_the_change_that_caused_them(world):
    """Receivers write in the sender's transaction: a won customer whose save fails
    leaves no points behind."""
    customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
    with pytest.raises(RuntimeError), write_transaction():
        won(customer)
        vote(article(7, world.support_a), world.rep_a)
        raise RuntimeError("the ledger's save failed")
    assert entry_count() == 0
    assert db.session.scalars(select(Notification)).all() == []
    # The sender's transaction commits them when it succeeds.
    with write_transaction():
        won(customer)
    assert points_of(world.rep_a2) == 10
    assert_summaries_exact()


def test_automatic_points_can_be_reversed_and_are_not_given_again(world):
    customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
    won(customer)
    entry = db.session.scalars(select(PointEntry)).one()
    reverse_entry(world.admin, entry.id, reason="客户退单")
    won(customer)
    assert points_of(world.rep_a2) == 0

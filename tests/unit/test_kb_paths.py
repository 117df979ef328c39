"""Onboarding paths: assigned with a due date and a notification, read with 已读并理解
(recording the revision read), progress, overdue, and reading again after a major
revision. Stage playbooks for the customer page."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from salesdesk.errors import DomainError, Forbidden
from salesdesk.extensions import db
from salesdesk.kb import articles, paths, playbooks, reading
from salesdesk.notifications import Notification
from tests.fixtures.kb import edit, write

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def path(world, frozen_clock):
    frozen_clock(NOW)
    path = paths.create_path(name="新人第一周", description="入职第一周必读", actor=world.manager_a)
    articles = [write(world.manager_a, f"第{n}篇", f"内容{n}") for n in range(1, 4)]
    for article in articles:
        paths.add_to_path(path, article.id, actor=world.manager_a)
    path.articles = articles
    return path


def test_assignment_notifies_the_reader(world, path):
    paths.assign_path(path, user_id=world.rep_a.id, due_on=date(2026, 3, 9), actor=world.manager_a)
    note = db.session.scalar(select(Notification).where(Notification.user_id == world.rep_a.id))
    assert note.kind == "reading.assigned" and note.link == f"/kb/paths/{path.id}"
    assert note.message == "王经理 给你安排了学习路径「新人第一周」，请在 2026年3月9日 前完成。"


def test_progress_counts_read_articles_and_records_the_revision(world, path):
    assignment = paths.assign_path(
        path, user_id=world.rep_a.id, due_on=date(2026, 3, 9), actor=world.manager_a
    )
    first = path.articles[0]
    edit(first, world.manager_a, body="内容1（修订）")
    reading.acknowledge(first, user=world.rep_a, version=2)
    progress = paths.progress(path, world.rep_a, assignment)
    assert (progress.done, progress.total, progress.percent) == (1, 3, 33)
    assert [state for _article, state in progress.items] == ["read", "unread", "unread"]
    assert reading.receipt_of(world.rep_a, first).version == 2


def test_a_major_revision_asks_readers_to_read_again(world, path):
    paths.assign_path(path, user_id=world.rep_a.id, due_on=date(2026, 3, 9), actor=world.manager_a)
    first = path.articles[0]
    reading.acknowledge(first, user=world.rep_a, version=1)
    edit(first, world.manager_a, body="小改动")
    assert reading.reading_states(world.rep_a, [first])[first.id] == "read"
    edit(first, world.manager_a, body="流程全部改了", major=True)
    progress = paths.my_assignments(world.rep_a)[0]
    assert (progress.done, progress.rereads) == (0, 1)
    assert db.session.scalar(select(Notification.kind).where(Notification.kind == "reading.reread"))
    reading.acknowledge(first, user=world.rep_a, version=3)
    assert paths.my_assignments(world.rep_a)[0].done == 1


def test_acknowledging_a_revision_that_does_not_exist_is_refused(world, path):
    with pytest.raises(DomainError):
        reading.acknowledge(path.articles[0], user=world.rep_a, version=5)


def test_overdue_and_manager_view(world, path, frozen_clock):
    paths.assign_path(path, user_id=world.rep_a.id, due_on=date(2026, 3, 3), actor=world.manager_a)
    paths.assign_path(path, user_id=world.rep_a2.id, due_on=date(2026, 3, 20), actor=world.manager_a)
    for article in path.articles:
        reading.acknowledge(article, user=world.rep_a2, version=1)
    frozen_clock(datetime(2026, 3, 3, 15, 0, tzinfo=UTC))  # 23:00 on the 3rd in Shanghai: not yet overdue
    assert [row.overdue for row in paths.team_progress(world.manager_a)] == [False, False]
    frozen_clock(datetime(2026, 3, 3, 16, 30, tzinfo=UTC))  # 00:30 on the 4th
    rows = paths.team_progress(world.manager_a)
    assert [(row.assignment.user.display_name, row.overdue, row.complete) for row in rows] == [
        ("张三", True, False),
        ("李四", False, True),
    ]
    assert paths.team_progress(world.manager_b) == []
    assert paths.team_progress(world.rep_a) == []
    assert len(paths.team_progress(world.admin)) == 2


def test_managers_assign_only_within_their_team(world, path):
    with pytest.raises(Forbidden):
        paths.assign_path(path, user_id=world.rep_b.id, due_on=date(2026, 3, 9), actor=world.manager_a)
    with pytest.raises(Forbidden):
        paths.assign_path(path, user_id=world.rep_a2.id, due_on=date(2026, 3, 9), actor=world.rep_a)
    with pytest.raises(DomainError):
        paths.assign_path(path, user_id=world.rep_a.id, due_on=date(2025, 1, 1), actor=world.manager_a)
    with pytest.raises(DomainError):
        paths.assign_path(path, user_id=999, due_on=date(2026, 3, 9), actor=world.admin)
    paths.assign_path(path, user_id=world.rep_b.id, due_on=date(2026, 3, 9), actor=world.admin)


def test_reordering_and_unpublished_articles(world, path):
    first, second, third = path.articles
    paths.move_in_path(path, third.id, offset=-1, actor=world.support_a)
    assert [item.article_id for item in path.items] == [first.id, third.id, second.id]
    articles.set_published(second, actor=world.admin, published=False)
    assert paths.progress(path, world.rep_a).total == 2
    paths.remove_from_path(path, first.id, actor=world.support_a)
    db.session.expire(path)
    assert [item.article_id for item in path.items] == [third.id, second.id]
    with pytest.raises(DomainError):
        paths.add_to_path(path, third.id, actor=world.support_a)


def test_playbooks_for_stage(world):
    quoted = write(world.admin, "报价阶段怎么做", "先确认预算。", stages=["quoted"])
    write(world.admin, "谈判草稿", "内部", stages=["quoted"], publish=False)
    write(world.admin, "谈判技巧", "让步要换条件。", stages=["negotiating", "quoted"])
    assert [a.title for a in playbooks.playbooks_for_stage("quoted", world.rep_a)] == [
        "报价阶段怎么做",
        "谈判技巧",
    ]
    assert len(playbooks.playbooks_for_stage("quoted", world.manager_a)) == 3
    assert playbooks.playbooks_for_stage("lead", world.rep_a) == []
    assert playbooks.playbooks_for_stage("nonsense", world.rep_a) == []
    assert quoted in playbooks.playbooks_for_stage("quoted", world.rep_a)

"""Articles: every save is a revision, restores add one, a stale save is refused,
reps read only what is published and propose edits that editors decide."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from salesdesk.errors import Conflict, DomainError, Forbidden, NotFound
from salesdesk.extensions import db
from salesdesk.kb import articles, categories, content, proposals, revisions, search
from salesdesk.kb.models import Proposal, Revision
from salesdesk.notifications import Notification
from tests.fixtures.kb import edit, write


def numbers(article):
    return [(r.number, r.author_id, r.note) for r in reversed(revisions.revisions(article))]


def test_every_save_is_a_revision_with_who_when_and_note(world, article, frozen_clock):
    edit(article, world.support_a, body=article.body + "\n\n补充：报价单需盖章。", note="补充盖章要求")
    assert article.version == 2 and article.last_editor_id == world.support_a.id
    assert numbers(article) == [(1, world.manager_a.id, ""), (2, world.support_a.id, "补充盖章要求")]
    assert revisions.get_revision(article, 2).body.endswith("报价单需盖章。")


def test_saving_without_changes_is_refused(world, article):
    with pytest.raises(DomainError, match="没有任何改动|Nothing"):
        edit(article, world.manager_a)
    assert article.version == 1


def test_restore_adds_a_revision_and_loses_nothing(world, article):
    original = article.body
    edit(article, world.manager_a, body="全新的内容。", note="重写")
    revisions.restore_revision(article, 1, actor=world.support_a, base_version=2)
    assert article.version == 3 and article.body == original
    third = revisions.get_revision(article, 3)
    assert third.restored_from == 1 and third.author_id == world.support_a.id
    assert revisions.get_revision(article, 2).body == "全新的内容。"


def test_second_editor_is_refused_with_the_saved_revision(world, article):
    base = article.version
    edit(article, world.manager_a, body="经理先保存的版本", base_version=base)
    with pytest.raises(revisions.StaleEdit) as refused:
        edit(article, world.support_a, body="支持同事的版本", base_version=base)
    assert refused.value.status == 409
    assert refused.value.current.number == 2 and refused.value.current.body == "经理先保存的版本"
    assert "王经理" in refused.value.message
    db.session.rollback()
    assert article.body == "经理先保存的版本" and article.version == 2
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 2


def test_revisions_are_append_only_in_the_database(world, article):
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE kb_revisions SET body = 'forged'"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(text("DELETE FROM kb_revisions"))
        db.session.flush()
    db.session.rollback()


def test_reps_cannot_write_publish_or_see_drafts(world, article, draft):
    rep = world.rep_a
    with pytest.raises(Forbidden):
        write(rep, "我的文章", "内容")
    with pytest.raises(Forbidden):
        edit(article, rep, body="改")
    with pytest.raises(Forbidden):
        articles.set_published(draft, actor=rep, published=True)
    with pytest.raises(NotFound):
        articles.get_article_for(rep, draft.id)
    with pytest.raises(Forbidden):
        articles.get_article_for(rep, article.id, "history")
    assert articles.get_article_for(rep, article.id) is article
    assert articles.get_article_for(world.support_a, draft.id, "edit") is draft


def test_unknown_ids_are_not_found(world):
    for bad in (10**9, "1", None, -1):
        with pytest.raises(NotFound):
            articles.get_article_for(world.admin, bad)


def test_publish_and_unpublish(world, draft):
    articles.set_published(draft, actor=world.manager_b, published=True)
    assert articles.get_article_for(world.rep_b, draft.id) is draft
    articles.set_published(draft, actor=world.manager_b, published=False)
    with pytest.raises(NotFound):
        articles.get_article_for(world.rep_b, draft.id)


def test_proposal_accepted_becomes_a_revision_by_the_proposer(world, article):
    proposal = proposals.propose_edit(
        article,
        proposer=world.rep_a,
        base_version=1,
        title=article.title,
        body="报价单有效期为 15 天。",
        note="有效期变了",
    )
    assert article.version == 1  # nothing changes before an editor decides
    notified = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "kb.proposal")
    ).all()
    assert notified == [world.manager_a.id]
    proposals.accept_proposal(proposal, editor=world.support_a)
    assert article.version == 2 and article.body == "报价单有效期为 15 天。"
    revision = revisions.get_revision(article, 2)
    assert (revision.author_id, revision.accepted_by_id, revision.note) == (
        world.rep_a.id,
        world.support_a.id,
        "有效期变了",
    )
    assert proposal.status == "accepted" and proposal.revision_number == 2
    with pytest.raises(Conflict):
        proposals.decline_proposal(proposal, editor=world.manager_a)


def test_outdated_proposal_is_not_applied_over_newer_text(world, article):
    proposal = proposals.propose_edit(
        article, proposer=world.rep_a, base_version=1, title="新标题", body="建议的内容"
    )
    edit(article, world.manager_a, body="编辑后来改的内容")
    with pytest.raises(revisions.StaleEdit):
        proposals.accept_proposal(proposal, editor=world.support_a)
    db.session.rollback()
    assert article.body == "编辑后来改的内容" and proposal.is_pending
    # Merged in the editor instead: saving with the proposal accepts it.
    articles.save_article(
        article,
        editor=world.support_a,
        base_version=2,
        title="新标题",
        body="合并后的内容",
        proposal=proposal,
    )
    assert proposal.status == "accepted" and proposal.revision_number == 3


def test_declined_proposal_tells_the_proposer(world, article):
    proposal = proposals.propose_edit(
        article, proposer=world.rep_a, base_version=1, title=article.title, body="不对的内容"
    )
    proposals.decline_proposal(proposal, editor=world.manager_a, reason="与公司政策不符")
    assert proposal.status == "declined" and proposal.decline_reason == "与公司政策不符"
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == world.rep_a.id)).all()
    assert kinds == ["kb.proposal.declined"]


def test_reps_see_only_their_own_proposals(world, article):
    proposal = proposals.propose_edit(
        article, proposer=world.rep_a, base_version=1, title=article.title, body="甲"
    )
    assert proposals.get_proposal_for(world.rep_a, proposal.id) is proposal
    with pytest.raises(NotFound):
        proposals.get_proposal_for(world.rep_a2, proposal.id)
    assert proposals.proposals_for(world.rep_a2) == []
    assert proposals.proposals_for(world.support_a) == [proposal]


def test_proposals_need_a_real_base_and_a_change(world, article):
    with pytest.raises(DomainError):
        proposals.propose_edit(article, proposer=world.rep_a, base_version=7, title=article.title, body="x")
    with pytest.raises(DomainError):
        proposals.propose_edit(
            article, proposer=world.rep_a, base_version=1, title=article.title, body=article.body
        )
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_tags_stages_and_category_are_kept(world):
    category = categories.create_category(name="报价与合同", actor=world.admin)
    article = write(
        world.admin,
        "合同审批流程",
        "合同先法务后财务。",
        category_id=category.id,
        tags="合同，审批 合同",
        stages=["quoted", "negotiating"],
    )
    assert article.tag_names == ["合同", "审批"]
    assert [stage.value for stage in article.stage_values] == ["quoted", "negotiating"]
    with pytest.raises(DomainError):
        write(world.admin, "x", "y", stages=["bogus"])
    with pytest.raises(DomainError):
        write(world.admin, "x", "y", tags="a" * 31)
    with pytest.raises(DomainError):
        write(world.admin, "x", "y", category_id=999)


def test_categories_are_two_levels_and_deleted_only_when_empty(world):
    top = categories.create_category(name="产品知识", actor=world.admin)
    child = categories.create_category(name="硬件", parent_id=top.id, actor=world.admin)
    with pytest.raises(DomainError):
        categories.create_category(name="更深", parent_id=child.id, actor=world.admin)
    with pytest.raises(DomainError):
        categories.create_category(name="硬件", parent_id=top.id, actor=world.admin)
    with pytest.raises(Conflict):
        categories.delete_category(top, actor=world.admin)
    write(world.admin, "x", "y", category_id=child.id)
    with pytest.raises(Conflict):
        categories.delete_category(child, actor=world.admin)
    with pytest.raises(Forbidden):
        categories.create_category(name="销售", actor=world.rep_a)


def test_restoring_the_current_text_is_refused(world, article):
    edit(article, world.manager_a, body="第二版")
    with pytest.raises(DomainError):
        revisions.restore_revision(article, 2, actor=world.manager_a, base_version=2)


def test_a_very_long_article_is_saved_and_found(world):
    # Thousands of distinct words: the index entry must not hit a page-size limit.
    words = [f"词{n}号" for n in range(6000)]
    body = "，".join(words) + "。" + "回款" * 10
    article = write(world.admin, "超长文章", body[: content.MAX_BODY_CHARS])
    assert [hit.article for hit in search.search_articles(world.rep_a, "回款").hits] == [article]
    assert search.search_articles(world.rep_a, "5999").total == 1

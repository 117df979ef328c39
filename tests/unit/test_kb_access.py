"""Who may do what in the knowledge base, role by role: the one table that services,
views and templates all read (salesdesk/kb/access.py)."""

from types import SimpleNamespace

import pytest

from salesdesk.kb import access

EDITING = (
    access.may_edit_articles,
    access.may_see_drafts,
    access.may_decide_proposals,
    access.may_see_insights,
    access.may_manage_categories,
    access.may_manage_paths,
)


@pytest.mark.parametrize(
    ("who", "edits", "assigns"),
    [
        ("admin", True, True),
        ("manager_a", True, True),
        ("support_a", True, False),
        ("rep_a", False, False),
    ],
)
def test_editors_write_and_managers_assign(world, who, edits, assigns):
    user = getattr(world, who)
    assert [may(user) for may in EDITING] == [edits] * len(EDITING)
    assert access.may_assign_paths(user) is assigns
    assert access.may_see_team_progress(user) is assigns


def test_managers_assign_to_their_own_team_and_administrators_to_anyone(world):
    assert access.may_assign_paths(world.manager_a, world.rep_a)
    assert not access.may_assign_paths(world.manager_a, world.rep_b)
    assert access.may_assign_paths(world.admin, world.rep_b)
    assert access.sees_every_team(world.admin) and not access.sees_every_team(world.manager_a)


def test_drafts_and_proposals_are_for_editors_and_their_authors(world):
    draft = SimpleNamespace(is_published=False)
    assert access.may_read(world.support_a, draft) and not access.may_read(world.rep_a, draft)
    assert access.may_read(world.rep_a, SimpleNamespace(is_published=True))
    proposal = SimpleNamespace(proposer_id=world.rep_a.id)
    assert access.may_see_proposal(world.rep_a, proposal)
    assert access.may_see_proposal(world.manager_b, proposal)
    assert not access.may_see_proposal(world.rep_a2, proposal)

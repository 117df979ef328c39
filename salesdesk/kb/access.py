"""Who may read and change what in the knowledge base: decided here and nowhere else.

Everyone reads published articles, votes, marks them read and proposes edits. Editors
(administrators, managers, support) also see drafts and feedback, write and publish
articles, decide proposals and keep categories and reading paths. Administrators
assign reading paths to anyone and follow everyone's progress; managers those of
their own team.
"""

from ..auth.models import Role

EDITOR_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SUPPORT})


def _is_editor(user):
    return user.role in EDITOR_ROLES


def may_edit_articles(user):
    """Write, publish and unpublish articles, see and restore their history."""
    return _is_editor(user)


def may_see_revision(user, article, number):
    """An article's earlier revisions are the history's, which editors see; others read
    the current one (a proposal based on an older revision would show its text)."""
    return may_edit_articles(user) or number == article.version


def may_write_text(user):
    """Write an article's text: editors in the editor, everyone else in a proposed edit.
    Both preview it and add images to it."""
    return user.is_authenticated and user.active


def may_upload_images(user):
    return may_write_text(user)


def may_see_images(user):
    """Any image of any article, drafts' included: an image's address is a number, and
    what it shows was meant for the team's articles (nobody outside logs in)."""
    return user.is_authenticated and user.active


def may_see_drafts(user):
    return _is_editor(user)


def may_read(user, article):
    return article.is_published or may_see_drafts(user)


def may_decide_proposals(user):
    """Accept or decline the edits others propose (and see all of them)."""
    return _is_editor(user)


def may_see_proposal(user, proposal):
    return may_decide_proposals(user) or proposal.proposer_id == user.id


def may_see_insights(user):
    """Votes, comments and the upkeep report."""
    return _is_editor(user)


def may_manage_categories(user):
    return _is_editor(user)


def may_manage_paths(user):
    """Create and rename reading paths and choose their articles."""
    return _is_editor(user)


def may_assign_paths(user, reader=None):
    """Administrators assign to anyone; managers to the people of their own team.
    Without `reader`: whether `user` assigns to anyone at all."""
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.MANAGER:
        return False
    return reader is None or (reader.team_id is not None and reader.team_id == user.team_id)


def may_see_team_progress(user):
    return may_assign_paths(user)


def sees_every_team(user):
    """Assigns to and follows the progress of every team, not only their own."""
    return user.role == Role.ADMIN

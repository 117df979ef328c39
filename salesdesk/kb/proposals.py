"""Edits proposed by readers: an editor accepts one as a revision (credited to its
proposer) or declines it with a reason; the proposer hears of either."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import clock
from ..auth.models import User
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..notifications import link, notify, register_kinds
from . import access, content
from .models import Proposal, ProposalStatus
from .revisions import add_revision, get_revision, stale_edit

MAX_REASON = 300

register_kinds(
    {
        "kb.proposal": _l("%(by)s proposed an edit to “%(title)s”."),
        "kb.proposal.accepted": _l("Your edit to “%(title)s” was accepted."),
        "kb.proposal.declined": _l("Your edit to “%(title)s” was declined."),
    }
)


def get_proposal_for(user, proposal_id):
    proposal = db.session.get(Proposal, proposal_id) if isinstance(proposal_id, int) else None
    if proposal is None or not access.may_see_proposal(user, proposal):
        raise NotFound(_("This proposal does not exist."))
    return proposal


def propose_edit(article, *, proposer, base_version, title, body, note=""):
    if not access.may_read(proposer, article):
        raise NotFound(_("This article does not exist or is not published."))
    title, body = content.check_content(title, body)
    with write_transaction() as session:
        article = content.lock(session, article)
        if not 1 <= base_version <= article.version or not access.may_see_revision(
            proposer, article, base_version
        ):
            raise DomainError(_("The form is out of date. Reload the page and try again."))
        base = get_revision(article, base_version)
        if (title, body) == (base.title, base.body):
            raise DomainError(_("Nothing has changed."))
        proposal = Proposal(
            article_id=article.id,
            base_version=base_version,
            title=title,
            body=body,
            note=content.clean_note(note),
            proposer_id=proposer.id,
            created_at=clock.now(),
        )
        session.add(proposal)
        session.flush()
        # The people who wrote the article hear of it; every editor sees the queue.
        for user_id in {article.author_id, article.last_editor_id} - {proposer.id}:
            user = session.get(User, user_id)
            if user.active and access.may_decide_proposals(user):
                notify(
                    user,
                    "kb.proposal",
                    link=link("kb.proposal", proposal_id=proposal.id),
                    by=proposer.display_name,
                    title=article.title,
                )
    return proposal


def close_proposal(
    session, proposal, article, editor, *, accepted, author=None, note="", reason="", major=False
):
    """Decide a pending proposal inside the caller's transaction. Accepted: the article
    already holds its content, recorded here as a revision by `author`."""
    proposal = session.execute(
        select(Proposal)
        .where(Proposal.id == proposal.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if not proposal.is_pending:
        raise Conflict(_("This proposal has been decided already."))
    proposal.decided_by_id = editor.id
    proposal.decided_at = clock.now()
    if accepted:
        proposal.status = ProposalStatus.ACCEPTED
        proposal.revision_number = add_revision(
            session,
            article,
            author=author,
            title=article.title,
            body=article.body,
            note=note or proposal.note,
            major=major,
            accepted_by=editor,
        )
    else:
        proposal.status = ProposalStatus.DECLINED
        proposal.decline_reason = reason
    notify(
        proposal.proposer_id,
        "kb.proposal.accepted" if accepted else "kb.proposal.declined",
        link=link("kb.proposal", proposal_id=proposal.id),
        title=article.title,
    )


def accept_proposal(proposal, *, editor):
    """Apply a proposal as it is. When the article changed since it was written, this
    is refused (StaleEdit): the editor merges it in the editor instead."""
    if not access.may_decide_proposals(editor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        article = content.lock(session, proposal.article)
        if not proposal.is_pending:
            raise Conflict(_("This proposal has been decided already."))
        if proposal.base_version != article.version:
            raise stale_edit(article)
        content.replace_text(article, proposal.title, proposal.body)
        close_proposal(session, proposal, article, editor, accepted=True, author=proposal.proposer)
    return proposal


def decline_proposal(proposal, *, editor, reason=""):
    if not access.may_decide_proposals(editor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise DomainError(_("The reason is too long (at most 300 characters)."), field="reason")
    with write_transaction() as session:
        close_proposal(session, proposal, proposal.article, editor, accepted=False, reason=reason)
    return proposal


def proposals_for(user, status=ProposalStatus.PENDING):
    query = (
        select(Proposal)
        .options(joinedload(Proposal.article), joinedload(Proposal.proposer))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    )
    if status:
        query = query.where(Proposal.status == status)
    if not access.may_decide_proposals(user):
        query = query.where(Proposal.proposer_id == user.id)
    return db.session.scalars(query.limit(200)).all()


def pending_proposal_count(user):
    if not access.may_decide_proposals(user):
        return 0
    return db.session.scalar(select(func.count()).where(Proposal.status == ProposalStatus.PENDING))

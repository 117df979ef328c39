"""Writing articles: the loader that owns the 404/403 decision, creating, saving an
edit (or an editor's merge of a proposal) as a new revision, publishing, views."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from .. import audit, clock
from ..database import write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from . import access, content
from .models import Article, Revision, Status
from .proposals import close_proposal
from .revisions import add_revision, stale_edit

ACTIONS = ("read", "vote", "acknowledge", "propose", "edit", "publish", "history")

audit.register_actions(
    {
        "kb.article.published": _l("Article published"),
        "kb.article.unpublished": _l("Article unpublished"),
    }
)


def get_article_for(user, article_id, action="read"):
    """The article if `user` may do `action` to it; 404 for what they may not even see,
    403 for what they see but may not change.

    Actions: read, vote, acknowledge, propose (anyone who can read it); edit, publish,
    history (editors).
    """
    article = db.session.get(Article, article_id) if isinstance(article_id, int) else None
    if article is None or not access.may_read(user, article):
        raise NotFound(_("This article does not exist or is not published."))
    if action in ("edit", "publish", "history") and not access.may_edit_articles(user):
        raise Forbidden(_("Only editors can change articles or see their history."))
    if action not in ACTIONS:
        raise ValueError(action)
    return article


def create_article(*, author, title, body, category_id=None, tags="", stages=(), note="", publish=False):
    if not access.may_edit_articles(author):
        raise Forbidden(_("Only editors can write articles. Propose an edit instead."))
    title, body = content.check_content(title, body)
    tag_list, stage_list = content.parse_tags(tags), content.parse_stages(stages)
    now = clock.now()
    with write_transaction() as session:
        article = Article(
            author_id=author.id,
            last_editor_id=author.id,
            status=Status.PUBLISHED if publish else Status.DRAFT,
            version=1,
            major_version=1,
            created_at=now,
            updated_at=now,
            published_at=now if publish else None,
        )
        content.apply(
            article,
            title=title,
            body=body,
            category=content.category_of(session, category_id),
            tags=tag_list,
            stages=stage_list,
        )
        session.add(article)
        session.flush()
        session.add(
            Revision(
                article_id=article.id,
                number=1,
                title=title,
                body=body,
                author_id=author.id,
                note=content.clean_note(note),
                major=True,
                created_at=now,
            )
        )
        if publish:
            audit.record("kb.article.published", actor=author, subject=article)
    return article


def save_article(
    article,
    *,
    editor,
    base_version,
    title,
    body,
    category_id=None,
    tags="",
    stages=(),
    note="",
    major=False,
    proposal=None,
):
    """Save an edit as a new revision. `base_version` is the revision the editor
    started from: if someone saved since, nothing is written and StaleEdit says so.
    With a `proposal`, the edit is the editor's merge of it and accepts it."""
    if not access.may_edit_articles(editor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    title, body = content.check_content(title, body)
    tag_list, stage_list = content.parse_tags(tags), content.parse_stages(stages)
    with write_transaction() as session:
        article = content.lock(session, article)
        if base_version != article.version:
            raise stale_edit(article)
        category = content.category_of(session, category_id)
        same_content = (title, body) == (article.title, article.body)
        same_meta = (
            category == article.category
            and set(tag_list) == set(article.tag_names)
            and set(stage_list) == set(article.stage_values)
        )
        if same_content and same_meta and proposal is None:
            raise DomainError(_("Nothing has changed."))
        content.apply(article, title=title, body=body, category=category, tags=tag_list, stages=stage_list)
        if proposal is not None:
            close_proposal(
                session,
                proposal,
                article,
                editor,
                accepted=True,
                author=proposal.proposer,
                note=note,
                major=major,
            )
        else:
            add_revision(session, article, author=editor, title=title, body=body, note=note, major=major)
    return article


def set_published(article, *, actor, published):
    if not access.may_edit_articles(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        article = content.lock(session, article)
        if article.is_published == published:
            return article
        article.status = Status.PUBLISHED if published else Status.DRAFT
        if published and article.published_at is None:
            article.published_at = clock.now()
        audit.record(
            "kb.article.published" if published else "kb.article.unpublished", actor=actor, subject=article
        )
    return article


def record_view(article):
    """Count a view in one UPDATE (no lost increments across processes)."""
    with write_transaction() as session:
        session.execute(
            update(Article).where(Article.id == article.id).values(view_count=Article.view_count + 1)
        )

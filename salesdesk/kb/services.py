"""The knowledge base's rules: revisions and stale saves, proposals, votes, search,
onboarding paths and stage playbooks (who may do what: access.py). Plain functions
that own their transactions; no request objects."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import defer, joinedload, selectinload

from .. import audit, clock, signals
from ..auth.models import User
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger.models import Stage
from ..notifications import notify, register_kinds, with_dates
from . import access, markdown, search
from .models import (
    Article,
    ArticleStage,
    ArticleTag,
    Assignment,
    Category,
    PathItem,
    Proposal,
    ProposalStatus,
    ReadingPath,
    ReadReceipt,
    Revision,
    Status,
    Vote,
)

MAX_BODY_CHARS = 100_000
MAX_TAGS = 10
MAX_TAG_CHARS = 30
TAG_SEPARATORS = re.compile(r"[\s,，、;；#]+")
SEARCH_PAGE_SIZE = 20
LIVE_RESULTS = 6
DEFAULT_STALE_MONTHS = 6
MIN_VOTES_FOR_RATING = 1

register_kinds(
    {
        "reading.assigned": with_dates(
            _l("%(by)s assigned you the reading path “%(path)s”, due %(due)s."), "due"
        ),
        "reading.reread": _l("“%(title)s” has changed a lot since you read it. Please read it again."),
        "kb.proposal": _l("%(by)s proposed an edit to “%(title)s”."),
        "kb.proposal.accepted": _l("Your edit to “%(title)s” was accepted."),
        "kb.proposal.declined": _l("Your edit to “%(title)s” was declined."),
    }
)
audit.register_actions(
    {
        "kb.article.published": _l("Article published"),
        "kb.article.unpublished": _l("Article unpublished"),
        "kb.revision.restored": _l("Article revision restored"),
        "kb.path.assigned": _l("Reading path assigned"),
    }
)


class StaleEdit(Conflict):
    """Someone saved the article after this edit began. Carries what the view needs
    to show the difference instead of overwriting."""

    def __init__(self, message, article, current):
        super().__init__(message)
        self.article = article
        self.current = current  # the Revision saved in between


def _link(endpoint, **values):
    """A path inside the app, built without a request (services run from the CLI too)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT"))
    return adapter.build(endpoint, values)


# ---- loaders ---------------------------------------------------------------------------


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
    if action not in ("read", "vote", "acknowledge", "propose", "edit", "publish", "history"):
        raise ValueError(action)
    return article


def get_proposal_for(user, proposal_id):
    proposal = db.session.get(Proposal, proposal_id) if isinstance(proposal_id, int) else None
    if proposal is None or not access.may_see_proposal(user, proposal):
        raise NotFound(_("This proposal does not exist."))
    return proposal


# ---- articles and revisions -----------------------------------------------------------


def parse_tags(value):
    tags = list(dict.fromkeys(tag for tag in TAG_SEPARATORS.split(value or "") if tag))
    if len(tags) > MAX_TAGS:
        raise DomainError(_("At most %(n)s tags.", n=MAX_TAGS), field="tags")
    if any(len(tag) > MAX_TAG_CHARS for tag in tags):
        raise DomainError(_("A tag has at most %(n)s characters.", n=MAX_TAG_CHARS), field="tags")
    return tags


def _parse_stages(values):
    try:
        return sorted({Stage(value) for value in values or ()}, key=list(Stage).index)
    except ValueError:
        raise DomainError(_("Unknown stage."), field="stages") from None


def _check_content(title, body):
    title, body = (title or "").strip(), (body or "").replace("\r\n", "\n").rstrip()
    if not title:
        raise DomainError(_("An article needs a title."), field="title")
    if len(title) > 200:
        raise DomainError(_("The title is too long (at most 200 characters)."), field="title")
    if not body.strip():
        raise DomainError(_("An article needs some text."), field="body")
    if len(body) > MAX_BODY_CHARS:
        raise DomainError(
            _("The text is too long (at most %(n)s characters).", n=MAX_BODY_CHARS), field="body"
        )
    return title, body


def _category(session, category_id):
    if not category_id:
        return None
    category = session.get(Category, category_id)
    if category is None:
        raise DomainError(_("Unknown category."), field="category_id")
    return category


def _apply(article, *, title, body, category, tags, stages):
    article.title, article.body = title, body
    article.category = category
    article.plain_text = markdown.plain_text(body)
    article.search_title = search.index_words(title)
    article.search_body = search.index_words(f"{article.plain_text} {' '.join(tags)}")
    current = set(article.tag_names)
    if current != set(tags):
        article.tags = [tag for tag in article.tags if tag.tag in tags] + [
            ArticleTag(tag=tag) for tag in tags if tag not in current
        ]
    wanted = {stage.value for stage in stages}
    if {link.stage for link in article.stages} != wanted:
        article.stages = [link for link in article.stages if link.stage in wanted] + [
            ArticleStage(stage=stage) for stage in sorted(wanted - {link.stage for link in article.stages})
        ]


def create_article(*, author, title, body, category_id=None, tags="", stages=(), note="", publish=False):
    if not access.may_edit_articles(author):
        raise Forbidden(_("Only editors can write articles. Propose an edit instead."))
    title, body = _check_content(title, body)
    tag_list, stage_list = parse_tags(tags), _parse_stages(stages)
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
        _apply(
            article,
            title=title,
            body=body,
            category=_category(session, category_id),
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
                note=(note or "").strip()[:200],
                major=True,
                created_at=now,
            )
        )
        if publish:
            audit.record("kb.article.published", actor=author, subject=article)
    return article


def _lock(session, article):
    """Re-read the article inside the write transaction, locked (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    return session.execute(
        select(Article)
        .where(Article.id == article.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def current_revision(article):
    return db.session.scalar(
        select(Revision).where(Revision.article_id == article.id, Revision.number == article.version)
    )


def _stale(article):
    current = current_revision(article)
    editor = current.author.display_name if current else ""
    return StaleEdit(
        _(
            "%(name)s saved this article while you were editing it. Your changes are not saved yet: "
            "compare them with the saved text below, then save again.",
            name=editor,
        ),
        article,
        current,
    )


def _add_revision(
    session, article, *, author, title, body, note, major, accepted_by=None, restored_from=None
):
    now = clock.now()
    number = article.version + 1
    session.add(
        Revision(
            article_id=article.id,
            number=number,
            title=title,
            body=body,
            author_id=author.id,
            accepted_by_id=accepted_by.id if accepted_by else None,
            note=(note or "").strip()[:200],
            major=bool(major),
            restored_from=restored_from,
            created_at=now,
        )
    )
    article.version = number
    article.last_editor_id = author.id
    article.updated_at = now
    if major:
        article.major_version = number
        _ask_to_read_again(session, article, number)
    return number


def _ask_to_read_again(session, article, number):
    readers = session.scalars(
        select(ReadReceipt.user_id).where(ReadReceipt.article_id == article.id, ReadReceipt.version < number)
    ).all()
    for user_id in readers:
        notify(
            user_id,
            "reading.reread",
            link=_link("kb.article", article_id=article.id),
            dedupe_key=f"kb-reread-{article.id}-{number}-{user_id}",
            title=article.title,
        )


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
    started from: if someone saved since, nothing is written and StaleEdit says so."""
    if not access.may_edit_articles(editor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    title, body = _check_content(title, body)
    tag_list, stage_list = parse_tags(tags), _parse_stages(stages)
    with write_transaction() as session:
        article = _lock(session, article)
        if base_version != article.version:
            raise _stale(article)
        category = _category(session, category_id)
        same_content = (title, body) == (article.title, article.body)
        same_meta = (
            category == article.category
            and set(tag_list) == set(article.tag_names)
            and set(stage_list) == set(article.stage_values)
        )
        if same_content and same_meta and proposal is None:
            raise DomainError(_("Nothing has changed."))
        _apply(article, title=title, body=body, category=category, tags=tag_list, stages=stage_list)
        if proposal is not None:
            _close_proposal(
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
            _add_revision(session, article, author=editor, title=title, body=body, note=note, major=major)
    return article


def set_published(article, *, actor, published):
    if not access.may_edit_articles(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        article = _lock(session, article)
        if article.is_published == published:
            return article
        article.status = Status.PUBLISHED if published else Status.DRAFT
        if published and article.published_at is None:
            article.published_at = clock.now()
        audit.record(
            "kb.article.published" if published else "kb.article.unpublished", actor=actor, subject=article
        )
    return article


def revisions(article):
    return db.session.scalars(
        select(Revision)
        .where(Revision.article_id == article.id)
        .options(joinedload(Revision.author), joinedload(Revision.accepted_by))
        .order_by(Revision.number.desc())
    ).all()


def get_revision(article, number):
    revision = db.session.scalar(
        select(Revision).where(Revision.article_id == article.id, Revision.number == number)
    )
    if revision is None:
        raise NotFound(_("This revision does not exist."))
    return revision


def restore_revision(article, number, *, actor, base_version, note="", major=False):
    """Make an old revision's title and text current again, as a new revision."""
    if not access.may_edit_articles(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    old = get_revision(article, number)
    with write_transaction() as session:
        article = _lock(session, article)
        if base_version != article.version:
            raise _stale(article)
        if (old.title, old.body) == (article.title, article.body):
            raise DomainError(_("This revision is the same as the current text."))
        _apply(
            article,
            title=old.title,
            body=old.body,
            category=article.category,
            tags=article.tag_names,
            stages=article.stage_values,
        )
        note = (note or "").strip() or _("Restored revision %(number)s", number=number)
        new_number = _add_revision(
            session,
            article,
            author=actor,
            title=old.title,
            body=old.body,
            note=note,
            major=major,
            restored_from=number,
        )
        audit.record("kb.revision.restored", actor=actor, subject=article, restored=number, number=new_number)
    return article


def record_view(article):
    """Count a view in one UPDATE (no lost increments across processes)."""
    with write_transaction() as session:
        session.execute(
            update(Article).where(Article.id == article.id).values(view_count=Article.view_count + 1)
        )


# ---- proposals ------------------------------------------------------------------------


def propose_edit(article, *, proposer, base_version, title, body, note=""):
    if not access.may_read(proposer, article):
        raise NotFound(_("This article does not exist or is not published."))
    title, body = _check_content(title, body)
    with write_transaction() as session:
        article = _lock(session, article)
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
            note=(note or "").strip()[:200],
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
                    link=_link("kb.proposal", proposal_id=proposal.id),
                    by=proposer.display_name,
                    title=article.title,
                )
    return proposal


def _close_proposal(
    session, proposal, article, editor, *, accepted, author=None, note="", reason="", major=False
):
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
        proposal.revision_number = _add_revision(
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
        proposal.decline_reason = (reason or "").strip()[:300]
    notify(
        proposal.proposer_id,
        "kb.proposal.accepted" if accepted else "kb.proposal.declined",
        link=_link("kb.proposal", proposal_id=proposal.id),
        title=article.title,
    )


def accept_proposal(proposal, *, editor):
    """Apply a proposal as it is. When the article changed since it was written, this
    is refused (StaleEdit): the editor merges it in the editor instead."""
    if not access.may_decide_proposals(editor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        article = _lock(session, proposal.article)
        if not proposal.is_pending:
            raise Conflict(_("This proposal has been decided already."))
        if proposal.base_version != article.version:
            raise _stale(article)
        _apply(
            article,
            title=proposal.title,
            body=proposal.body,
            category=article.category,
            tags=article.tag_names,
            stages=article.stage_values,
        )
        _close_proposal(session, proposal, article, editor, accepted=True, author=proposal.proposer)
    return proposal


def decline_proposal(proposal, *, editor, reason=""):
    if not access.may_decide_proposals(editor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        _close_proposal(session, proposal, proposal.article, editor, accepted=False, reason=reason)
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


# ---- feedback -------------------------------------------------------------------------


def vote(article, *, user, helpful, comment=""):
    """有用 / 没用: one vote per user and article; voting again changes it. Announces
    `article_voted` inside the transaction, so points awarded for it commit with it."""
    if not access.may_read(user, article):
        raise NotFound(_("This article does not exist or is not published."))
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise DomainError(_("The comment is too long (at most 500 characters)."), field="comment")
    with write_transaction() as session:
        article = _lock(session, article)  # serialises two first votes of one user
        existing = session.scalar(select(Vote).where(Vote.article_id == article.id, Vote.user_id == user.id))
        previous = existing.helpful if existing else None
        now = clock.now()
        if existing is None:
            existing = Vote(article_id=article.id, user_id=user.id, helpful=helpful, created_at=now)
            session.add(existing)
        existing.helpful = bool(helpful)
        existing.comment = comment
        existing.updated_at = now
        session.flush()
        signals.article_voted.send(article, voter=user, helpful=bool(helpful), previous=previous)
    return existing


def vote_of(article, user):
    return db.session.scalar(select(Vote).where(Vote.article_id == article.id, Vote.user_id == user.id))


def vote_counts(article):
    row = db.session.execute(
        select(
            func.count(case((Vote.helpful.is_(True), 1))),
            func.count(case((Vote.helpful.is_(False), 1))),
        ).where(Vote.article_id == article.id)
    ).one()
    return row[0], row[1]


def recent_comments(article, limit=20):
    return db.session.scalars(
        select(Vote)
        .where(Vote.article_id == article.id, Vote.comment != "")
        .options(joinedload(Vote.user))
        .order_by(Vote.updated_at.desc())
        .limit(limit)
    ).all()


@dataclass
class Rated:
    article: Article
    helpful: int
    unhelpful: int

    @property
    def votes(self):
        return self.helpful + self.unhelpful

    @property
    def share(self):
        """Helpful votes as a whole percentage, or None without votes."""
        return round(100 * self.helpful / self.votes) if self.votes else None


def helpfulness_report(limit=50):
    """Articles with votes, least helpful first (share of 有用, then most 没用)."""
    helpful = func.count(case((Vote.helpful.is_(True), 1)))
    unhelpful = func.count(case((Vote.helpful.is_(False), 1)))
    rows = db.session.execute(
        select(Article, helpful, unhelpful)
        .join(Vote, Vote.article_id == Article.id)
        .group_by(Article.id)
        .having(func.count(Vote.id) >= MIN_VOTES_FOR_RATING)
        .order_by((helpful * 1.0 / func.count(Vote.id)).asc(), unhelpful.desc(), Article.id)
        .limit(limit)
    ).all()
    return [Rated(article, up, down) for article, up, down in rows]


def stale_articles(months=DEFAULT_STALE_MONTHS, limit=100):
    cutoff = clock.now() - timedelta(days=round(30.44 * months))
    return db.session.scalars(
        select(Article)
        .where(Article.updated_at < cutoff)
        .options(joinedload(Article.last_editor), joinedload(Article.category))
        .order_by(Article.updated_at, Article.id)
        .limit(limit)
    ).all()


# ---- search ---------------------------------------------------------------------------


@dataclass
class Hit:
    article: Article
    title: object  # Markup with <mark>
    snippet: object
    in_title: bool


@dataclass
class SearchResults:
    query: search.Query
    hits: list
    total: int
    page: int
    per_page: int

    @property
    def more(self):
        """More matches than were counted (the total shown is then a lower bound)."""
        return self.total > search.MAX_COUNT

    @property
    def shown_total(self):
        return min(self.total, search.MAX_COUNT)

    @property
    def pages(self):
        return max(1, -(-self.shown_total // self.per_page))

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def has_prev(self):
        return self.page > 1


def search_articles(user, raw_query, *, page=1, per_page=SEARCH_PAGE_SIZE):
    """Articles the user may read that contain every word of the query, ranked."""
    query = search.parse_query(raw_query)
    page = max(1, min(page or 1, 1000))
    ids, in_title, total = search.find(
        query, include_drafts=access.may_see_drafts(user), limit=per_page, offset=(page - 1) * per_page
    )
    articles = {
        article.id: article
        for article in db.session.scalars(
            select(Article)
            .where(Article.id.in_(ids))
            .options(
                joinedload(Article.category),
                # The results need the plain text for snippets, not the source or the index words.
                defer(Article.body),
                defer(Article.search_title),
                defer(Article.search_body),
            )
        )
    }
    hits = [
        Hit(
            article=articles[article_id],
            title=search.highlight(articles[article_id].title, query),
            snippet=search.snippet(articles[article_id].plain_text, query),
            in_title=in_title[article_id],
        )
        for article_id in ids
        if article_id in articles
    ]
    return SearchResults(query=query, hits=hits, total=total, page=page, per_page=per_page)


# ---- listing --------------------------------------------------------------------------


def category_tree():
    """Top-level categories with their children loaded, in display order."""
    return db.session.scalars(
        select(Category)
        .where(Category.parent_id.is_(None))
        .options(selectinload(Category.children))
        .order_by(Category.position, Category.name)
    ).all()


def article_counts(user):
    """category id -> number of articles the user can read."""
    query = select(Article.category_id, func.count()).group_by(Article.category_id)
    if not access.may_see_drafts(user):
        query = query.where(Article.status == Status.PUBLISHED)
    return dict(db.session.execute(query).all())


def list_articles(user, *, category_id=None, tag=None, status=None, sort="recent"):
    query = select(Article).options(joinedload(Article.category), joinedload(Article.last_editor))
    if not access.may_see_drafts(user):
        query = query.where(Article.status == Status.PUBLISHED)
    elif status in (Status.DRAFT, Status.PUBLISHED):
        query = query.where(Article.status == status)
    if category_id:
        children = select(Category.id).where(Category.parent_id == category_id)
        query = query.where((Article.category_id == category_id) | Article.category_id.in_(children))
    if tag:
        query = query.where(Article.id.in_(select(ArticleTag.article_id).where(ArticleTag.tag == tag)))
    order = {
        "title": (Article.title, Article.id),
        "views": (Article.view_count.desc(), Article.id.desc()),
    }.get(sort, (Article.updated_at.desc(), Article.id.desc()))
    return query.order_by(*order)


def popular_tags(user, limit=30):
    query = (
        select(ArticleTag.tag, func.count())
        .join(Article, Article.id == ArticleTag.article_id)
        .group_by(ArticleTag.tag)
        .order_by(func.count().desc(), ArticleTag.tag)
        .limit(limit)
    )
    if not access.may_see_drafts(user):
        query = query.where(Article.status == Status.PUBLISHED)
    return db.session.execute(query).all()


# ---- categories -----------------------------------------------------------------------


def _check_category(session, name, parent_id, except_id=None):
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A category needs a name."), field="name")
    if len(name) > 40:
        raise DomainError(_("The name is too long (at most 40 characters)."), field="name")
    parent = None
    if parent_id:
        parent = session.get(Category, parent_id)
        if parent is None:
            raise DomainError(_("Unknown category."), field="parent_id")
        if parent.parent_id is not None or parent.id == except_id:
            raise DomainError(_("Categories have at most two levels."), field="parent_id")
    query = select(Category.id).where(Category.name == name)
    query = query.where(Category.parent_id == parent.id if parent else Category.parent_id.is_(None))
    if except_id:
        query = query.where(Category.id != except_id)
    if session.scalar(query) is not None:
        raise DomainError(_("A category with this name exists already here."), field="name")
    return name, parent


def create_category(*, name, parent_id=None, actor):
    if not access.may_manage_categories(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        name, parent = _check_category(session, name, parent_id)
        position = session.scalar(
            select(func.coalesce(func.max(Category.position), 0) + 1).where(
                Category.parent_id == parent.id if parent else Category.parent_id.is_(None)
            )
        )
        category = Category(name=name, parent=parent, position=position, created_at=clock.now())
        session.add(category)
    return category


def update_category(category, *, name, parent_id=None, actor):
    if not access.may_manage_categories(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        if parent_id and session.scalar(select(func.count()).where(Category.parent_id == category.id)):
            raise DomainError(_("Categories have at most two levels."), field="parent_id")
        name, parent = _check_category(session, name, parent_id, except_id=category.id)
        category.name, category.parent = name, parent
    return category


def delete_category(category, *, actor):
    if not access.may_manage_categories(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        in_use = session.scalar(select(func.count()).where(Article.category_id == category.id))
        children = session.scalar(select(func.count()).where(Category.parent_id == category.id))
        if in_use or children:
            raise Conflict(
                _("Only an empty category can be deleted: move its articles and subcategories first.")
            )
        session.delete(category)


# ---- reading and onboarding paths -----------------------------------------------------

UNREAD, READ, REREAD = "unread", "read", "reread"


def _receipts(user_ids, article_ids):
    """{(user id, article id): version read} for these people and articles."""
    return {
        (user_id, article_id): version
        for user_id, article_id, version in db.session.execute(
            select(ReadReceipt.user_id, ReadReceipt.article_id, ReadReceipt.version).where(
                ReadReceipt.user_id.in_(user_ids), ReadReceipt.article_id.in_(article_ids)
            )
        )
    }


def reading_states(user, articles, receipts=None):
    """article id -> unread / read / reread (read before the latest major revision).
    `receipts` are given when they were read for many people at once (_receipts)."""
    if receipts is None:
        receipts = _receipts([user.id], [article.id for article in articles])
    return {article.id: _state(receipts.get((user.id, article.id)), article) for article in articles}


def _state(version, article):
    if version is None:
        return UNREAD
    return READ if version >= article.major_version else REREAD


def receipt_of(user, article):
    return db.session.scalar(
        select(ReadReceipt).where(ReadReceipt.user_id == user.id, ReadReceipt.article_id == article.id)
    )


def acknowledge(article, *, user, version):
    """已读并理解: record that `user` read revision `version` (the one they were shown)."""
    if not access.may_read(user, article):
        raise NotFound(_("This article does not exist or is not published."))
    with write_transaction() as session:
        article = _lock(session, article)
        if not isinstance(version, int) or not 1 <= version <= article.version:
            raise DomainError(_("The form is out of date. Reload the page and try again."))
        receipt = session.scalar(
            select(ReadReceipt).where(ReadReceipt.user_id == user.id, ReadReceipt.article_id == article.id)
        )
        if receipt is None:
            receipt = ReadReceipt(user_id=user.id, article_id=article.id, version=version)
            session.add(receipt)
        receipt.version = max(receipt.version or 0, version)
        receipt.at = clock.now()
    return receipt


def user_paths_with(user, article):
    """The user's assigned paths that contain the article."""
    return db.session.scalars(
        select(ReadingPath)
        .join(Assignment, Assignment.path_id == ReadingPath.id)
        .join(PathItem, PathItem.path_id == ReadingPath.id)
        .where(Assignment.user_id == user.id, PathItem.article_id == article.id)
        .order_by(ReadingPath.name)
    ).all()


def _check_path_fields(session, name, description, except_id=None):
    name, description = (name or "").strip(), (description or "").strip()
    if not name:
        raise DomainError(_("A reading path needs a name."), field="name")
    if len(name) > 80:
        raise DomainError(_("The name is too long (at most 80 characters)."), field="name")
    if len(description) > 500:
        raise DomainError(_("The description is too long (at most 500 characters)."), field="description")
    query = select(ReadingPath.id).where(ReadingPath.name == name)
    if except_id:
        query = query.where(ReadingPath.id != except_id)
    if session.scalar(query) is not None:
        raise DomainError(_("A reading path with this name exists already."), field="name")
    return name, description


def create_path(*, name, description="", actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        name, description = _check_path_fields(session, name, description)
        now = clock.now()
        path = ReadingPath(
            name=name, description=description, created_by_id=actor.id, created_at=now, updated_at=now
        )
        session.add(path)
    return path


def update_path(path, *, name, description="", actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        name, description = _check_path_fields(session, name, description, except_id=path.id)
        path.name, path.description, path.updated_at = name, description, clock.now()
    return path


def get_path(path_id):
    path = db.session.get(ReadingPath, path_id) if isinstance(path_id, int) else None
    if path is None:
        raise NotFound(_("This reading path does not exist."))
    return path


def add_to_path(path, article_id, *, actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        article = session.get(Article, article_id) if isinstance(article_id, int) else None
        if article is None:
            raise DomainError(_("Unknown article."), field="article_id")
        if session.get(PathItem, (path.id, article.id)) is not None:
            raise DomainError(_("This article is in the path already."), field="article_id")
        position = session.scalar(
            select(func.coalesce(func.max(PathItem.position), 0) + 1).where(PathItem.path_id == path.id)
        )
        session.add(PathItem(path_id=path.id, article_id=article.id, position=position))
        path.updated_at = clock.now()


def move_in_path(path, article_id, *, offset, actor):
    """Swap an article with its neighbour above (offset -1) or below (+1)."""
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        items = session.scalars(
            select(PathItem)
            .where(PathItem.path_id == path.id)
            .order_by(PathItem.position, PathItem.article_id)
        ).all()
        index = next((i for i, item in enumerate(items) if item.article_id == article_id), None)
        if index is None:
            raise NotFound(_("This article is not in the path."))
        other = index + offset
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
        for position, item in enumerate(items, start=1):
            item.position = position
        path.updated_at = clock.now()


def remove_from_path(path, article_id, *, actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        item = session.get(PathItem, (path.id, article_id))
        if item is None:
            raise NotFound(_("This article is not in the path."))
        session.delete(item)
        path.updated_at = clock.now()


def assignable_users(actor):
    query = select(User).where(User.active.is_(True)).order_by(User.team_id, User.display_name)
    if not access.sees_every_team(actor):
        query = query.where(User.team_id == actor.team_id)
    return db.session.scalars(query).all() if access.may_assign_paths(actor) else []


def assign_path(path, *, user_id, due_on, actor):
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        raise DomainError(_("Unknown user."), field="user_id")
    if not access.may_assign_paths(actor, user):
        raise Forbidden(_("Managers assign reading paths to the people of their own team."))
    if not isinstance(due_on, date):
        raise DomainError(_("Choose a due date."), field="due_on")
    today = local_today(actor)
    if due_on < today or due_on > today + timedelta(days=366):
        raise DomainError(_("The due date must be between today and a year from now."), field="due_on")
    with write_transaction() as session:
        assignment = session.scalar(
            select(Assignment).where(Assignment.path_id == path.id, Assignment.user_id == user.id)
        )
        if assignment is None:
            assignment = Assignment(
                path_id=path.id,
                user_id=user.id,
                assigned_by_id=actor.id,
                due_on=due_on,
                created_at=clock.now(),
            )
            session.add(assignment)
        assignment.assigned_by_id = actor.id
        assignment.due_on = due_on
        session.flush()
        notify(
            user,
            "reading.assigned",
            link=_link("kb.path", path_id=path.id),
            by=actor.display_name,
            path=path.name,
            due=due_on.isoformat(),
        )
        audit.record(
            "kb.path.assigned", actor=actor, subject=assignment, user_id=user.id, due=due_on.isoformat()
        )
    return assignment


def unassign_path(assignment, *, actor):
    if not access.may_assign_paths(actor, assignment.user):
        raise Forbidden(_("Managers assign reading paths to the people of their own team."))
    with write_transaction() as session:
        session.delete(assignment)


def local_today(user):
    return clock.now().astimezone(ZoneInfo(user.timezone)).date()


@dataclass
class Progress:
    path: ReadingPath
    assignment: Assignment | None
    items: list  # (article, state) in path order; unpublished articles left out
    done: int
    total: int
    rereads: int

    @property
    def percent(self):
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def complete(self):
        return self.done >= self.total

    @property
    def overdue(self):
        return (
            bool(self.assignment)
            and not self.complete
            and self.assignment.due_on < local_today(self.assignment.user)
        )


def path_articles(path):
    return [item.article for item in path.items if item.article.is_published]


def progress(path, user, assignment=None, receipts=None):
    articles = path_articles(path)
    states = reading_states(user, articles, receipts)
    items = [(article, states[article.id]) for article in articles]
    done = sum(1 for _article, state in items if state == READ)
    rereads = sum(1 for _article, state in items if state == REREAD)
    return Progress(path, assignment, items, done, len(items), rereads)


def my_assignments(user):
    assignments = (
        db.session.scalars(
            select(Assignment)
            .where(Assignment.user_id == user.id)
            .options(joinedload(Assignment.path).selectinload(ReadingPath.items).joinedload(PathItem.article))
            .order_by(Assignment.due_on, Assignment.id)
        )
        .unique()
        .all()
    )
    return [progress(assignment.path, user, assignment) for assignment in assignments]


def assignment_of(path, user):
    return db.session.scalar(
        select(Assignment).where(Assignment.path_id == path.id, Assignment.user_id == user.id)
    )


def team_progress(actor, path=None, team_id=None):
    """Progress of every assignment the actor oversees (admins: all, or the team they
    pick; managers: their team), overdue ones first."""
    if not access.may_see_team_progress(actor):
        return []
    query = (
        select(Assignment)
        .join(User, User.id == Assignment.user_id)
        .options(
            # The user's team too: whether an assignment is overdue depends on its time zone.
            joinedload(Assignment.user).joinedload(User.team),
            joinedload(Assignment.path).selectinload(ReadingPath.items).joinedload(PathItem.article),
        )
        .order_by(Assignment.due_on, User.display_name)
    )
    if not access.sees_every_team(actor):
        query = query.where(User.team_id == actor.team_id)
    elif team_id is not None:
        query = query.where(User.team_id == team_id)
    if path is not None:
        query = query.where(Assignment.path_id == path.id)
    assignments = db.session.scalars(query).unique().all()
    receipts = _receipts(
        {a.user_id for a in assignments}, {item.article_id for a in assignments for item in a.path.items}
    )
    rows = [progress(a.path, a.user, a, receipts) for a in assignments]
    return sorted(rows, key=lambda row: (not row.overdue, row.complete, row.assignment.due_on))


def all_paths():
    return db.session.scalars(
        select(ReadingPath).options(selectinload(ReadingPath.items)).order_by(ReadingPath.name)
    ).all()


# ---- stage playbooks ------------------------------------------------------------------


def playbooks_for_stage(stage, user, limit=10):
    """Articles the user may read that are playbooks for this pipeline stage: what to
    do at 方案报价, say. For the customer page (templates/kb/_playbooks.html)."""
    try:
        stage = Stage(stage)
    except ValueError:
        return []
    query = (
        select(Article)
        .join(ArticleStage, ArticleStage.article_id == Article.id)
        .where(ArticleStage.stage == stage.value)
        .order_by(Article.title, Article.id)
        .limit(limit)
    )
    if not access.may_see_drafts(user):
        query = query.where(Article.status == Status.PUBLISHED)
    return db.session.scalars(query).all()

"""The article list: filters parsed leniently from the query string (a hand-edited URL
never errors), one page of the articles the user may read, and the side panel's
counts and tags."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..database import is_id
from ..extensions import db
from ..paging import paginate
from . import access
from .content import MAX_TAG_CHARS
from .models import Article, ArticleTag, Category, Status

PAGE_SIZE = 20
SORTS = {
    "recent": (Article.updated_at.desc(), Article.id.desc()),
    "title": (Article.title, Article.id),
    "views": (Article.view_count.desc(), Article.id.desc()),
}


@dataclass
class Filters:
    category: int | None = None  # a category and its subcategories
    tag: str = ""
    status: str = ""  # editors only: drafts or published
    sort: str = "recent"

    @classmethod
    def from_args(cls, args):
        category = args.get("category", type=int)
        status = args.get("status", "")
        sort = args.get("sort", "recent")
        return cls(
            category=category if is_id(category) else None,
            tag=args.get("tag", "").strip()[:MAX_TAG_CHARS],
            status=status if status in (Status.DRAFT, Status.PUBLISHED) else "",
            sort=sort if sort in SORTS else "recent",
        )


def articles_page(user, filters, page):
    query = select(Article).options(joinedload(Article.category), joinedload(Article.last_editor))
    if not access.may_see_drafts(user):
        query = query.where(Article.status == Status.PUBLISHED)
    elif filters.status:
        query = query.where(Article.status == filters.status)
    if filters.category:
        children = select(Category.id).where(Category.parent_id == filters.category)
        query = query.where((Article.category_id == filters.category) | Article.category_id.in_(children))
    if filters.tag:
        query = query.where(
            Article.id.in_(select(ArticleTag.article_id).where(ArticleTag.tag == filters.tag))
        )
    # A knowledge base holds hundreds of articles, not the ledger's 100,000 rows:
    # counting them all is cheap, and the pager can say "page 2 of 7".
    return paginate(query.order_by(*SORTS[filters.sort]), page, PAGE_SIZE)


def article_counts(user):
    """category id -> number of articles the user can read."""
    query = select(Article.category_id, func.count()).group_by(Article.category_id)
    if not access.may_see_drafts(user):
        query = query.where(Article.status == Status.PUBLISHED)
    return dict(db.session.execute(query).all())


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

"""Stage playbooks: the articles to read at a pipeline stage (what to do at 方案报价),
shown on the customer page of a customer in that stage."""

from sqlalchemy import select

from ..extensions import db
from ..ledger.models import Stage
from . import access
from .models import Article, ArticleStage, Status


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

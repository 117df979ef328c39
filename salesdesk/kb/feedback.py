"""Feedback on articles: 有用 / 没用 votes with an optional comment, and what editors
read from them (the least helpful articles, the ones nobody has changed for months)."""

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from .. import clock, signals
from ..database import write_transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from . import access, content
from .models import Article, Vote

MAX_COMMENT = 500
DEFAULT_STALE_MONTHS = 6
MIN_VOTES_FOR_RATING = 1


def vote(article, *, user, helpful, comment=""):
    """有用 / 没用: one vote per user and article; voting again changes it. Announces
    `article_voted` inside the transaction, so points awarded for it commit with it."""
    if not access.may_read(user, article):
        raise NotFound(_("This article does not exist or is not published."))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(_("The comment is too long (at most 500 characters)."), field="comment")
    with write_transaction() as session:
        article = content.lock(session, article)  # serialises two first votes of one user
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

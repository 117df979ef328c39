"""The knowledge base (知识库): articles and their revisions, edit proposals, votes,
onboarding paths and the stages an article is a playbook for."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..database import UTCDateTime
from ..extensions import db
from ..ledger.models import Stage


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self):
        return STATUS_LABELS[self]


STATUS_LABELS = {Status.DRAFT: _l("Draft"), Status.PUBLISHED: _l("Published")}


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self):
        return PROPOSAL_STATUS_LABELS[self]


PROPOSAL_STATUS_LABELS = {
    ProposalStatus.PENDING: _l("Awaiting review"),
    ProposalStatus.ACCEPTED: _l("Accepted"),
    ProposalStatus.DECLINED: _l("Declined"),
}


def _in(column, values):
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_known")


class Category(db.Model):
    """A shallow tree: top-level categories, each with optional subcategories."""

    __tablename__ = "kb_categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    parent: Mapped["Category | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Category"]] = relationship(
        back_populates="parent", order_by="(Category.position, Category.name)"
    )

    def __repr__(self):
        return f"<Category {self.id} {self.name}>"

    @property
    def path_name(self):
        return f"{self.parent.name} / {self.name}" if self.parent else self.name


class Article(db.Model):
    __tablename__ = "kb_articles"
    __table_args__ = (
        _in("status", [status.value for status in Status]),
        Index("ix_kb_articles_status_updated", "status", "updated_at", "id"),
        Index("ix_kb_articles_category_status", "category_id", "status"),
        Index("ix_kb_articles_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # Markdown as written; the page renders and sanitises it on every view.
    body: Mapped[str] = mapped_column(Text)
    # The rendered text without markup: snippets and one-character searches.
    plain_text: Mapped[str] = mapped_column(Text, default="")
    # Segmented words separated by spaces (see search.py), indexed by FTS5 on
    # SQLite and a GIN tsvector index on PostgreSQL (see migrations).
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")
    # PostgreSQL: the same words as a stored tsvector, kept up to date by a trigger and
    # GIN-indexed (see migrations); checking a stored vector is cheap where parsing the
    # text for every candidate row is not. Unused (NULL) on SQLite. Never loaded.
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR().with_variant(Text(), "sqlite"), deferred=True
    )
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"))
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    last_editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The number of the current revision: a save based on an older one is stale.
    version: Mapped[int] = mapped_column(default=1)
    # The number of the latest revision marked "major": readers who acknowledged an
    # older one are asked to read the article again.
    major_version: Mapped[int] = mapped_column(default=1)
    view_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship()
    author = relationship("User", foreign_keys=[author_id])
    last_editor = relationship("User", foreign_keys=[last_editor_id])
    tags: Mapped[list["ArticleTag"]] = relationship(order_by="ArticleTag.tag", cascade="all, delete-orphan")
    stages: Mapped[list["ArticleStage"]] = relationship(cascade="all, delete-orphan")

    def __repr__(self):
        return f"<Article {self.id} {self.title}>"

    @property
    def is_published(self):
        return self.status == Status.PUBLISHED

    @property
    def status_label(self):
        return Status(self.status).label

    @property
    def tag_names(self):
        return [tag.tag for tag in self.tags]

    @property
    def stage_values(self):
        order = list(Stage)
        return sorted((Stage(link.stage) for link in self.stages), key=order.index)


class ArticleTag(db.Model):
    __tablename__ = "kb_article_tags"
    __table_args__ = (Index("ix_kb_article_tags_tag", "tag", "article_id"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(30), primary_key=True)


class ArticleStage(db.Model):
    """The article is a playbook for customers in this pipeline stage."""

    __tablename__ = "kb_article_stages"
    __table_args__ = (
        _in("stage", [stage.value for stage in Stage]),
        Index("ix_kb_article_stages_stage", "stage", "article_id"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)


class Revision(db.Model):
    """One saved state of an article's title and body. Append-only: database
    triggers refuse UPDATE and DELETE (see migrations); a restore adds a revision."""

    __tablename__ = "kb_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Set when an editor accepted a rep's proposal as this revision.
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    major: Mapped[bool] = mapped_column(default=False)
    restored_from: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    author = relationship("User", foreign_keys=[author_id])
    accepted_by = relationship("User", foreign_keys=[accepted_by_id])


class Proposal(db.Model):
    """A rep's suggested edit, waiting for an editor to accept or decline it."""

    __tablename__ = "kb_proposals"
    __table_args__ = (
        _in("status", [status.value for status in ProposalStatus]),
        Index("ix_kb_proposals_status_created", "status", "created_at"),
        Index("ix_kb_proposals_article_status", "article_id", "status"),
        Index("ix_kb_proposals_proposer_created", "proposer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    # The revision the proposal was written against.
    base_version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200), default="")
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(String(300), default="")
    revision_number: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    article: Mapped[Article] = relationship()
    proposer = relationship("User", foreign_keys=[proposer_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def status_label(self):
        return ProposalStatus(self.status).label

    @property
    def is_pending(self):
        return self.status == ProposalStatus.PENDING


class Vote(db.Model):
    """有用 / 没用: one per user and article; a second vote changes the first."""

    __tablename__ = "kb_votes"
    __table_args__ = (
        UniqueConstraint("article_id", "user_id"),
        Index("ix_kb_votes_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    helpful: Mapped[bool]
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User")


class ReadingPath(db.Model):
    """An ordered reading list (新人学习路径) that managers assign with a due date."""

    __tablename__ = "kb_paths"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    items: Mapped[list["PathItem"]] = relationship(
        order_by="PathItem.position", cascade="all, delete-orphan", back_populates="path"
    )
    created_by = relationship("User")


class PathItem(db.Model):
    __tablename__ = "kb_path_items"

    path_id: Mapped[int] = mapped_column(ForeignKey("kb_paths.id"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)

    path: Mapped[ReadingPath] = relationship(back_populates="items")
    article: Mapped[Article] = relationship()


class Assignment(db.Model):
    __tablename__ = "kb_assignments"
    __table_args__ = (UniqueConstraint("path_id", "user_id"), Index("ix_kb_assignments_user", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("kb_paths.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    path: Mapped[ReadingPath] = relationship()
    user = relationship("User", foreign_keys=[user_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])


class ReadReceipt(db.Model):
    """已读并理解: who confirmed reading an article, and which revision they read."""

    __tablename__ = "kb_read_receipts"
    __table_args__ = (
        UniqueConstraint("user_id", "article_id"),
        Index("ix_kb_read_receipts_article", "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    version: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Image(db.Model):
    """A picture pasted or chosen in the editor: the file lies in the instance folder
    (images.folder()), under a random name; articles show it as /kb/images/<id>."""

    __tablename__ = "kb_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_as: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

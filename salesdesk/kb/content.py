"""What an article may hold (its limits, tags and stages), how checked content is
written onto the row and its search words, and the row lock every change takes.
The forms import the limits from here."""

import re

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import DomainError
from ..ledger.models import Stage
from . import markdown, search
from .models import Article, ArticleStage, ArticleTag, Category

MAX_TITLE = 200
MAX_BODY_CHARS = 100_000
MAX_NOTE = 200
MAX_TAGS = 10
MAX_TAG_CHARS = 30
TAG_SEPARATORS = re.compile(r"[\s,，、;；#]+")


def parse_tags(value):
    tags = list(dict.fromkeys(tag for tag in TAG_SEPARATORS.split(value or "") if tag))
    if len(tags) > MAX_TAGS:
        raise DomainError(_("At most %(n)s tags.", n=MAX_TAGS), field="tags")
    if any(len(tag) > MAX_TAG_CHARS for tag in tags):
        raise DomainError(_("A tag has at most %(n)s characters.", n=MAX_TAG_CHARS), field="tags")
    return tags


def parse_stages(values):
    try:
        return sorted({Stage(value) for value in values or ()}, key=list(Stage).index)
    except ValueError:
        raise DomainError(_("Unknown stage."), field="stages") from None


def check_content(title, body):
    """The title and text as stored (trimmed, Unix line ends), or a DomainError."""
    title, body = (title or "").strip(), (body or "").replace("\r\n", "\n").rstrip()
    if not title:
        raise DomainError(_("An article needs a title."), field="title")
    if len(title) > MAX_TITLE:
        raise DomainError(_("The title is too long (at most 200 characters)."), field="title")
    if not body.strip():
        raise DomainError(_("An article needs some text."), field="body")
    if len(body) > MAX_BODY_CHARS:
        raise DomainError(
            _("The text is too long (at most %(n)s characters).", n=MAX_BODY_CHARS), field="body"
        )
    return title, body


def clean_note(note):
    return (note or "").strip()[:MAX_NOTE]


def category_of(session, category_id):
    if not category_id:
        return None
    category = session.get(Category, category_id)
    if category is None:
        raise DomainError(_("Unknown category."), field="category_id")
    return category


def apply(article, *, title, body, category, tags, stages):
    """Write checked content onto the article, with the words search finds it by."""
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


def replace_text(article, title, body):
    """A new title and text (a restored revision, an accepted proposal); the article's
    category, tags and stages stay."""
    apply(
        article,
        title=title,
        body=body,
        category=article.category,
        tags=article.tag_names,
        stages=article.stage_values,
    )


def lock(session, article):
    """Re-read the article inside the write transaction, locked (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    return session.execute(
        select(Article)
        .where(Article.id == article.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()

"""The knowledge loop: published articles that may already answer a request being
written, and a KB draft made from a resolved request, linked both ways."""

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..database import write_transaction
from ..errors import Conflict, Forbidden
from ..extensions import db
from ..kb import articles as kb_articles
from ..kb import search as kb_search
from ..kb.models import Article
from ..notifications import link
from . import access
from .models import Event, EventKind, Request

SUGGESTED = 5
# The KB's search wants every word; a title is a sentence, so its longest words are
# also tried one by one.
WORDS_TRIED = 4
MIN_TITLE = 2


def suggestions(user, title):
    """Up to five published articles matching the title (the KB's own search)."""
    title = (title or "").strip()[:120]
    if len(title) < MIN_TITLE:
        return []
    query = kb_search.parse_query(title)
    found = list(kb_search.find(query, include_drafts=False, limit=SUGGESTED)[0])
    # One-character words would scan every article's text: only longer ones are tried.
    words = sorted((term for term in query.terms if len(term) > 1), key=len, reverse=True)
    for word in words[:WORDS_TRIED] if len(query.terms) > 1 else ():
        if len(found) >= SUGGESTED:
            break
        alone = kb_search.Query((word,), prefix=False, substring=False)
        more = kb_search.find(alone, include_drafts=False, limit=SUGGESTED)[0]
        found += [article_id for article_id in more if article_id not in found]
    ids = found[:SUGGESTED]
    articles = {
        article.id: article for article in db.session.scalars(select(Article).where(Article.id.in_(ids)))
    }
    return [articles[article_id] for article_id in ids if article_id in articles]


def draft_from_resolution(user, support_request):
    """A KB draft with the request's question and the handler's answer, pointing back at
    the request; the request remembers the article."""
    if not access.may_draft_article(user, support_request):
        if support_request.kb_article_id is not None:
            raise Conflict(_("An article was already made from this request."))
        raise Forbidden(_("Support turns answered requests into articles."))
    answer = db.session.scalar(
        select(Event.body)
        .where(Event.request_id == support_request.id, Event.kind == EventKind.RESOLVED)
        .order_by(Event.id.desc())
        .limit(1)
    )
    source = link("support.show", request_id=support_request.id)
    body = "\n\n".join(
        part
        for part in (
            f"## {_('The question')}\n\n{support_request.details.strip()}",
            f"## {_('The answer')}\n\n{(answer or '').strip()}",
            _("From support request [#%(id)s](%(link)s).", id=support_request.id, link=source),
        )
        if part.strip()
    )
    article = kb_articles.create_article(author=user, title=support_request.title, body=body)
    with write_transaction() as session:
        claimed = session.execute(
            Request.__table__.update()
            .where(Request.id == support_request.id, Request.kb_article_id.is_(None))
            .values(kb_article_id=article.id)
        ).rowcount
        if claimed:
            session.add(
                Event(
                    request_id=support_request.id,
                    actor_id=user.id,
                    kind=EventKind.KB_DRAFT,
                    detail=str(article.id),
                    created_at=clock.now(),
                )
            )
    return article

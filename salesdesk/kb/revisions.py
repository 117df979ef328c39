"""An article's history: every save is a numbered revision; an edit that began on an
older one is refused (StaleEdit) instead of overwriting; an old revision can be
restored as a new one. A major revision asks the people who read it to read it again."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit, clock
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..notifications import link, notify, register_kinds
from . import access, content
from .models import ReadReceipt, Revision

register_kinds(
    {"reading.reread": _l("“%(title)s” has changed a lot since you read it. Please read it again.")}
)
audit.register_actions({"kb.revision.restored": _l("Article revision restored")})


class StaleEdit(Conflict):
    """Someone saved the article after this edit began. Carries what the view needs
    to show the difference instead of overwriting."""

    def __init__(self, message, article, current):
        super().__init__(message)
        self.article = article
        self.current = current  # the Revision saved in between


def current_revision(article):
    return db.session.scalar(
        select(Revision).where(Revision.article_id == article.id, Revision.number == article.version)
    )


def stale_edit(article):
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


def add_revision(session, article, *, author, title, body, note, major, accepted_by=None, restored_from=None):
    """Record the article's new content as its next revision; returns its number."""
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
            note=content.clean_note(note),
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
            link=link("kb.article", article_id=article.id),
            dedupe_key=f"kb-reread-{article.id}-{number}-{user_id}",
            title=article.title,
        )


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
        article = content.lock(session, article)
        if base_version != article.version:
            raise stale_edit(article)
        if (old.title, old.body) == (article.title, article.body):
            raise DomainError(_("This revision is the same as the current text."))
        content.replace_text(article, old.title, old.body)
        note = (note or "").strip() or _("Restored revision %(number)s", number=number)
        new_number = add_revision(
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

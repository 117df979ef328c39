"""已读并理解: who confirmed reading which revision of an article, and whether that
still counts (a major revision since asks them to read it again)."""

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..database import write_transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from . import access, content
from .models import ReadReceipt

UNREAD, READ, REREAD = "unread", "read", "reread"


def read_versions(user_ids, article_ids):
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
    `receipts` are given when they were read for many people at once (read_versions)."""
    if receipts is None:
        receipts = read_versions([user.id], [article.id for article in articles])
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
        article = content.lock(session, article)
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

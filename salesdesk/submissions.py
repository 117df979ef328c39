"""Forms that must take effect once, however often they are sent: a double click, a
retried request, a second tab. Each such form carries a one-time token
(forms.SubmittedOnceForm); `once(token, user)` records the token in the same write
transaction as the effect, so the unique token means "already done" to every later
request, and a request that failed left no record and may be sent again."""

import re
import secrets
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .database import UTCDateTime, write_transaction
from .errors import Conflict
from .extensions import db
from .jobs import periodic

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")
# A page left open longer may take effect twice; the table stays small.
KEPT_FOR = timedelta(days=1)


class FormSubmission(db.Model):
    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(String(22), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AlreadySubmitted(Conflict):
    """The form with this token has taken effect already. Views that know where its
    result is show that (303) with this message; elsewhere it is a 409 page."""

    def __init__(self):
        super().__init__(_("This was already submitted."))


def new_token():
    return secrets.token_urlsafe(16)


def is_token(value):
    return isinstance(value, str) and TOKEN_PATTERN.fullmatch(value) is not None


@contextmanager
def once(token, user):
    """The block's writes, in one transaction with the token's record: done once per
    token, AlreadySubmitted for every other request. The token is taken first, so a
    concurrent request with it waits for this one (the write lock on SQLite, the unique
    index on PostgreSQL) and then finds it."""
    with write_transaction() as session:
        session.add(FormSubmission(token=token, user_id=user.id, created_at=clock.now()))
        try:
            session.flush()
        except IntegrityError:
            raise AlreadySubmitted() from None
        yield session


@periodic("purge-form-submissions", interval=timedelta(hours=1))
def purge_old_submissions():
    with write_transaction() as session:
        session.execute(delete(FormSubmission).where(FormSubmission.created_at < clock.now() - KEPT_FOR))

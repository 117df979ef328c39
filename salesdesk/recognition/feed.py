"""The recognition feed and a person's history: entries newest first, a page at a time.

Keyset paging ("before" an entry id) rather than page numbers: new entries arrive at the
top all the time, and "Load more" must continue where the reader is, not repeat rows."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import User
from ..database import is_id
from ..extensions import db
from ..paging import Page
from .models import Kind, PointEntry

PAGE_SIZE = 20
FEED_KINDS = {"award": (Kind.AWARD,), "thanks": (Kind.THANKS,), None: (Kind.AWARD, Kind.THANKS)}


@dataclass
class FeedFilters:
    kind: str | None = None
    before: int | None = None

    @classmethod
    def from_args(cls, args):
        kind = args.get("kind")
        return cls(kind=kind if kind in FEED_KINDS else None, before=requested_before(args))


def requested_before(args):
    """The entry to continue before; None (the newest) for anything that is not an id."""
    before = args.get("before", type=int)
    return before if is_id(before) else None


def _entries_query():
    return select(PointEntry).options(
        joinedload(PointEntry.recipient).joinedload(User.team),
        joinedload(PointEntry.giver),
        joinedload(PointEntry.customer),
        selectinload(PointEntry.reversed_by),
    )


def _newest_first(query, before):
    if before is not None:
        query = query.where(PointEntry.id < before)
    entries = db.session.scalars(query.order_by(PointEntry.id.desc()).limit(PAGE_SIZE + 1)).unique().all()
    has_next = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return Page(
        items=entries,
        page=1,
        per_page=PAGE_SIZE,
        has_next=has_next,
        next_args={"before": entries[-1].id} if has_next else {},
    )


def feed(filters):
    """Awards and thanks (or one of them), newest first."""
    query = _entries_query().where(PointEntry.kind.in_(FEED_KINDS[filters.kind]))
    return _newest_first(query, filters.before)


def history(person, before=None):
    """Everything `person` received, reversals included."""
    return _newest_first(_entries_query().where(PointEntry.recipient_id == person.id), before)

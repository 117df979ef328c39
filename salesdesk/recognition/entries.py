"""Point entries: how every entry is written (with its summaries, in the same
transaction), one entry with its reversal, and an administrator's reversal."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, clock
from ..database import is_id, write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..notifications import link, notify, register_kinds
from . import access, summaries
from .models import Kind, PointEntry

MAX_REASON = 500

register_kinds({"points.reversed": _l("%(points)s points were reversed: %(reason)s")})
audit.register_actions({"points.reversed": _l("Points reversed")})


def check_reason(reason):
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise DomainError(_("Say why: a reason is required."), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_("Keep the reason to %(max)s characters.", max=MAX_REASON), field="reason")
    return reason


def not_reversed():
    """Entries that still count toward budgets and caps."""
    return ~select(summaries.Reversal.id).where(summaries.Reversal.reversal_of_id == PointEntry.id).exists()


def add_entry(session, **fields):
    now = clock.now()
    fields.setdefault("counted_at", now)
    entry = PointEntry(created_at=now, **fields)
    session.add(entry)
    session.flush()
    summaries.record(session, entry)
    return entry


def get_entry(entry_id):
    if not is_id(entry_id):
        raise NotFound(_("This entry does not exist."))
    entry = db.session.scalar(
        select(PointEntry)
        .where(PointEntry.id == entry_id)
        .options(
            joinedload(PointEntry.recipient),
            joinedload(PointEntry.giver),
            joinedload(PointEntry.customer),
            selectinload(PointEntry.reversed_by).joinedload(PointEntry.giver),
            joinedload(PointEntry.reversal_of),
        )
    )
    if entry is None:
        raise NotFound(_("This entry does not exist."))
    return entry


def reverse_entry(actor, entry_id, *, reason):
    """An administrator's correction: a negative entry that cancels one entry."""
    if not access.may_reverse(actor):
        raise Forbidden(_("Only administrators can reverse points."))
    reason = check_reason(reason)
    try:
        with write_transaction() as session:
            entry = session.get(PointEntry, entry_id) if is_id(entry_id) else None
            if entry is None:
                raise NotFound(_("This entry does not exist."))
            if entry.kind == Kind.REVERSAL:
                raise Conflict(_("A reversal cannot be reversed."))
            if session.scalar(select(PointEntry.id).where(PointEntry.reversal_of_id == entry.id)):
                raise Conflict(_("This entry has already been reversed."))
            reversal = add_entry(
                session,
                kind=Kind.REVERSAL,
                recipient_id=entry.recipient_id,
                giver_id=actor.id,
                points=-entry.points,
                category=entry.category,
                reason=reason,
                customer_id=entry.customer_id,
                article_id=entry.article_id,
                reversal_of_id=entry.id,
                counted_at=entry.counted_at,
            )
            notify(
                entry.recipient_id,
                "points.reversed",
                link=link("recognition.entry", entry_id=entry.id),
                points=entry.points,
                reason=reason,
            )
            audit.record(
                "points.reversed",
                actor=actor,
                subject=entry,
                points=entry.points,
                recipient_id=entry.recipient_id,
                reason=reason,
            )
    except IntegrityError as error:
        # Another administrator reversed it at the same moment (unique reversal_of_id).
        raise Conflict(_("This entry has already been reversed.")) from error
    return reversal

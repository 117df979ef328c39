"""A request's attachments as rows: added with the filing or a reply, found for a
viewer, and removed with a deleted request. The files themselves are support.files'."""

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..database import is_id, write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from . import access, files
from .models import Attachment, Event, EventKind, Request

MAX_FILES_PER_REQUEST = files.MAX_FILES_PER_REQUEST


def check_room(session, request, adding):
    """Refuse files beyond the per-request limit before anything is written."""
    if not adding:
        return
    held = session.scalar(select(func.count()).where(Attachment.request_id == request.id))
    if held + adding > MAX_FILES_PER_REQUEST:
        raise DomainError(
            _(
                "A request holds at most %(count)s files; this one has %(held)s.",
                count=MAX_FILES_PER_REQUEST,
                held=held,
            ),
            field="files",
        )


def attach(session, request, event, uploads, user):
    """Store checked uploads (files.read_upload) and add their rows to the transaction.
    A file whose row is rolled back stays on disk under its hash, harmless: the next
    identical upload reuses it."""
    for upload in uploads:
        files.store(upload)
        session.add(
            Attachment(
                request_id=request.id,
                event_id=event.id,
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                uploaded_by_id=user.id,
                created_at=event.created_at,
            )
        )


def of_request(request, with_notes):
    """The attachments a viewer sees, oldest first: those on internal notes only for
    whoever reads notes."""
    query = select(Attachment).where(Attachment.request_id == request.id)
    if not with_notes:
        on_notes = select(Event.id).where(Event.request_id == request.id, Event.kind == EventKind.NOTE)
        query = query.where(Attachment.event_id.not_in(on_notes))
    return db.session.scalars(query.order_by(Attachment.id)).all()


def get_attachment_for(user, request, attachment_id):
    """An attachment of a request the user sees, with its file."""
    attachment = db.session.get(Attachment, attachment_id) if is_id(attachment_id) else None
    if attachment is None or attachment.request_id != request.id:
        raise NotFound(_("This file does not exist."))
    event = db.session.get(Event, attachment.event_id) if attachment.event_id else None
    on_note = event is not None and event.kind == EventKind.NOTE
    if on_note and not access.may_see_notes(user, request):
        raise NotFound(_("This file does not exist."))
    path = files.path_of(attachment.sha256)
    if not path.is_file():
        raise NotFound(_("This file is no longer on the server."))
    return attachment, path


def delete_request(actor, request):
    """Delete a request with its timeline and attachments (admins only); a file goes
    too when no other request references it."""
    if not access.may_delete(actor):
        raise Forbidden(_("Only administrators delete requests."))
    with write_transaction() as session:
        hashes = set(session.scalars(select(Attachment.sha256).where(Attachment.request_id == request.id)))
        session.execute(delete(Attachment).where(Attachment.request_id == request.id))
        session.execute(delete(Event).where(Event.request_id == request.id))
        session.execute(delete(Request).where(Request.id == request.id))
        still_used = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(hashes))))
    for sha256 in hashes - still_used:
        files.remove(sha256)

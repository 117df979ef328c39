"""Images in articles: pasted or chosen in the editor, checked, stored in the instance
folder and served back only to people who are logged in.

Only PNG, JPEG, GIF and WebP, recognised by their first bytes rather than by the
name or the type the browser claims: an SVG or an HTML page renamed .png would be
a script on our own origin. Served with the type found here and nosniff, so a
browser never guesses another."""

import io
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from .. import clock, disk
from ..database import is_id, write_transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from . import access
from .models import Image

MAX_IMAGE_MB = 5
MAX_IMAGE_BYTES = MAX_IMAGE_MB * 1024 * 1024
ACCEPTED_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class ImageTooLarge(DomainError):
    status = 413


class NotAnImage(DomainError):
    status = 422


def folder():
    path = Path(current_app.instance_path) / "kb_images"
    path.mkdir(exist_ok=True)
    return path


def image_type(head):
    """The type the first bytes of a file say it is, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def markdown_for(image):
    """What the editor inserts into the text."""
    return f"![]({url_of(image)})"


def url_of(image):
    return f"/kb/images/{image.id}"


def store_image(stream, *, user):
    """Check and keep an uploaded image: the size is checked while reading, before
    anything is written, the type from its first bytes; a refused file leaves
    neither a row nor a file."""
    if not access.may_upload_images(user):
        raise DomainError(_("You cannot add images."))
    if stream is None:
        raise NotAnImage(_("Choose an image to upload."))
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(
            _("The image is larger than %(limit)s MB. Make it smaller and try again.", limit=MAX_IMAGE_MB)
        )
    if not data:
        raise NotAnImage(_("Choose an image to upload."))
    content_type = image_type(data[:16])
    if content_type is None:
        raise NotAnImage(_("This file is not a PNG, JPEG, GIF or WebP image."))
    stored = folder() / uuid.uuid4().hex
    try:
        disk.write_stream(io.BytesIO(data), stored, MAX_IMAGE_BYTES)
        with write_transaction() as session:
            image = Image(
                stored_as=stored.name,
                content_type=content_type,
                size=len(data),
                uploaded_by_id=user.id,
                created_at=clock.now(),
            )
            session.add(image)
    except OSError as error:
        stored.unlink(missing_ok=True)
        if disk.is_full(error):
            raise disk.DiskFull(
                _("The server's disk is full: the image was not saved. Please tell your administrator.")
            ) from None
        raise
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return image


def get_image(image_id):
    """The image and its file; NotFound when either is gone."""
    image = db.session.get(Image, image_id) if is_id(image_id) else None
    path = folder() / image.stored_as if image else None
    if path is None or not path.is_file():
        raise NotFound(_("This image does not exist."))
    return image, path

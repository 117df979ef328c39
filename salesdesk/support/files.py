"""Attachments of support requests on the server's disk: checked, stored once per
content and sent back only as downloads.

The type comes from the file's content, never from its name or the type the browser
claims: PDF, Office documents (the ZIP-based ones and the old OLE ones) and the
images the knowledge base takes. An HTML page, an SVG or a program renamed .pdf is
refused, and what is kept is always sent as an attachment with nosniff, so a browser
never renders it on our own origin.

Files live in the instance folder under the SHA-256 of their content: the same
quote uploaded twice is one file. The rows that point at them are the caller's."""

import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import current_app, send_file
from flask_babel import gettext as _

from .. import disk
from ..errors import DomainError
from ..kb.images import image_type

MAX_FILE_MB = 10
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_FILES_PER_REQUEST = 10
MAX_FILENAME = 200

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The old binary formats share one container; only the name tells them apart.
OLE_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
# The folder of the main part inside an Office Open XML package.
OOXML_TYPES = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
}
IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
# Names a type may keep; any other gets the type's extension added.
EXTENSIONS_OF = {"jpg": ("jpg", "jpeg")}
SHA256 = re.compile(r"[0-9a-f]{64}")


class FileTooLarge(DomainError):
    status = 413


class NotAccepted(DomainError):
    status = 422


class EmptyFile(DomainError):
    status = 422


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    content_type: str
    size: int
    sha256: str


def sniff(data, filename):
    """(content type, extension without the dot) that the content says, or None when
    it is not a file we take."""
    if data.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    content_type = image_type(data[:16])
    if content_type:
        return content_type, IMAGE_EXTENSIONS[content_type]
    if data.startswith(b"PK\x03\x04"):
        return _office_open_xml(data)
    if data.startswith(OLE_MAGIC):
        extension = _extension(filename)
        return (OLE_TYPES[extension], extension) if extension in OLE_TYPES else None
    return None


def _office_open_xml(data):
    # Only the names are read, nothing is unpacked, so a ZIP bomb costs nothing.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None
    # A macro project in a .docx is a .docm in disguise: Office would run its code.
    if "[Content_Types].xml" not in names or any(name.endswith("vbaProject.bin") for name in names):
        return None
    for folder_name, found in OOXML_TYPES.items():
        if any(name.startswith(folder_name) for name in names):
            return found
    return None


def _extension(filename):
    stem, dot, extension = (filename or "").rpartition(".")
    return extension.lower() if dot and stem else ""


def base_name(filename):
    """The name without any folder (browsers on Windows may send C:\\fakepath\\…),
    control or invisible formatting characters (a right-to-left override can make
    "exe.pdf" read backwards), surrounding spaces and dots."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cf"))
    return name.strip().strip(".").strip()


def clean_filename(filename, extension):
    """The name to keep and offer for download: its base name ending with an
    extension of the type found, at most MAX_FILENAME characters. A scan sent as
    "报价.png" that is a PDF becomes "报价.png.pdf", so no program opens it as
    something else."""
    name = base_name(filename)
    if _extension(name) not in EXTENSIONS_OF.get(extension, (extension,)):
        name = f"{name}.{extension}"
    stem, _dot, suffix = name.rpartition(".")
    stem = stem.rstrip()[: MAX_FILENAME - len(suffix) - 1].rstrip()
    return f"{stem}.{suffix}" if stem else f"attachment.{extension}"


def read_upload(stream, filename):
    """Read and check one uploaded file: the size while reading (never more than one
    byte past the limit), then the type from the content. Nothing is written."""
    shown = base_name(filename) or _("The file")
    data = stream.read(MAX_FILE_BYTES + 1) if stream is not None else b""
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(_("“%(name)s” is larger than %(limit)s MB.", name=shown, limit=MAX_FILE_MB))
    if not data:
        raise EmptyFile(_("“%(name)s” is empty.", name=shown))
    found = sniff(data, base_name(filename))
    if found is None:
        raise NotAccepted(_("“%(name)s” is not a PDF, Office document or image.", name=shown))
    content_type, extension = found
    return Upload(
        data=data,
        filename=clean_filename(filename, extension),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def folder():
    path = Path(current_app.instance_path) / "support_files"
    path.mkdir(exist_ok=True)
    return path


def path_of(sha256):
    # The name comes from the database, but a path is built from it: only a digest.
    if not SHA256.fullmatch(sha256 or ""):
        raise ValueError(f"not a SHA-256 digest: {sha256!r}")
    return folder() / sha256


def store(upload):
    """Keep the upload's content under its digest; the path. Written to a temporary
    file and renamed, so the digest's file is whole or absent; already there means
    the same content, left as it is."""
    path = path_of(upload.sha256)
    if path.is_file():
        return path
    temporary = path.with_name(f".{upload.sha256}-{uuid.uuid4().hex}.part")
    try:
        disk.write_stream(io.BytesIO(upload.data), temporary, MAX_FILE_BYTES)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if disk.is_full(error):
            raise disk.DiskFull(
                _(
                    "The server's disk is full: “%(name)s” was not saved. Please tell your administrator.",
                    name=upload.filename,
                )
            ) from None
        raise
    return path


def remove(sha256):
    """Delete the content once no attachment points at it any more (the caller
    knows); already gone is fine."""
    path_of(sha256).unlink(missing_ok=True)


def send(path, filename, content_type):
    """The download response: the type found at upload, always an attachment (never
    shown inline), nosniff, and kept by no cache."""
    response = send_file(path, mimetype=content_type, max_age=0)
    response.headers.set("Content-Disposition", "attachment", **_disposition_names(filename))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _disposition_names(filename):
    """filename= for old clients and filename*= (RFC 5987, UTF-8) for a name that is
    not ASCII. Werkzeug's own ASCII fallback of "报价单.pdf" would be ".pdf"."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        pass
    else:
        return {"filename": filename}
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii").strip()
    stem, _dot, extension = ascii_name.rpartition(".")
    if not any(char.isalnum() for char in stem):
        ascii_name = f"attachment.{extension}" if extension else "attachment"
    # RFC 5987 attr-chars stay as they are, as werkzeug quotes them.
    return {"filename": ascii_name, "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")}

"""Files on the server's disk: written so that a full disk leaves nothing behind, and
a full disk recognised wherever it shows (a file write, the database)."""

import errno
import os
import threading

from sqlalchemy.exc import DBAPIError

from .errors import DomainError

CHUNK = 1024 * 1024
FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# What SQLite ("database or disk is full") and PostgreSQL ("could not extend file …:
# No space left on device") say when the disk is full.
FULL_SIGNS = ("disk is full", "no space left", "could not extend file", "quota exceeded")


class DiskFull(DomainError):
    """The server's disk is full: nothing was stored; try again later."""

    status = 503


class TooLarge(Exception):
    """The stream is longer than the limit it was copied with."""


def is_full(error):
    """True when `error` says the disk (or the user's quota) is full."""
    if isinstance(error, OSError):
        return error.errno in FULL_ERRNOS
    if isinstance(error, DBAPIError):
        return any(sign in str(error.orig).lower() for sign in FULL_SIGNS)
    return False


def write_stream(stream, path, limit):
    """Copy `stream` into the new file `path`, flushed to the disk. Raises TooLarge
    past `limit` bytes; on that or any failure (a full disk) nothing is left at `path`."""
    try:
        with open(path, "xb") as file:
            size = 0
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge()
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size


def probe(folder):
    """Write, flush to the disk and delete a small file in `folder`: raises OSError
    when the folder cannot be written (a full disk, a read-only mount)."""
    path = folder / f".probe-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(path, "wb") as file:
            file.write(b"ok")
            file.flush()
            os.fsync(file.fileno())
    finally:
        path.unlink(missing_ok=True)

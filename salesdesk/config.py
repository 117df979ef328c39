"""Configuration: built-in defaults, then instance/config.py, then the environment."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

MEGABYTE = 1024 * 1024


class Defaults:
    # Rendering and sessions
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "salesdesk_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_NAME = "salesdesk_remember"
    # How long "remember me" keeps a login (the server forgets the login after it too).
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # A page left open for hours must still post: the token lives as long as the session.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    # Import files beyond this are refused with 413 (the request limit below leaves
    # room for the form around the file).
    UPLOAD_LIMIT_MB = 20
    # What an import may hold, checked before the file is parsed: ten times what a
    # real list needs (100,000 customers of ~20 columns fill a 10 MB workbook that
    # unpacks to ~100 MB), far below what takes a worker minutes.
    IMPORT_MAX_ROWS = 200_000
    IMPORT_MAX_COLUMNS = 256
    IMPORT_MAX_CELLS = 4_000_000
    IMPORT_MAX_UNPACKED_MB = 300
    # Worksheet XML packs about 10:1; a part packed tighter than this is a zip bomb.
    IMPORT_MAX_COMPRESSION_RATIO = 100
    # Uploaded files not imported within this time are deleted (hourly).
    IMPORT_KEEP_HOURS = 24
    # Plain forms are small; the limit keeps a forged 10 MB field from being parsed.
    MAX_FORM_MEMORY_SIZE = 2 * MEGABYTE

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # SQLite reads pages through a memory map of this many bytes of the database file
    # (0: through its own page cache; see database.configure_engine). Environment:
    # SALESDESK_SQLITE_MMAP_BYTES.
    SQLITE_MMAP_BYTES = 1 << 30

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    PASSWORD_HASH_METHOD = "scrypt"

    # Login throttling: refused after this many failures for one account from one
    # client address in the window, or from one address for any accounts.
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_FAILURE_WINDOW_MINUTES = 15

    # Customers per list page: what a screen or two shows, as in most CRMs; every row
    # costs about half a millisecond to load and render.
    PAGE_SIZE = 25

    # E-mail copies of notifications, sent after the change commits (off by default).
    MAIL_ENABLED = False
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_SENDER = "salesdesk@localhost"
    MAIL_BASE_URL = "http://127.0.0.1:5000"  # for links in e-mails
    # The app's address as its users reach it (https://crm.example.com): links in chat
    # groups. Without it, chat messages carry no link.
    BASE_URL = ""
    # Webhooks may reach private and loopback addresses (an intranet robot, a test).
    WEBHOOK_ALLOW_PRIVATE = False

    # Reclaim, reminders and month close run by themselves in the course of requests
    # (at most once a minute across processes). Turn off when cron runs them instead.
    RUN_PERIODIC_JOBS_IN_REQUESTS = True


def load_config(app, overrides=None):
    """Fill app.config in the documented order; later sources win."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    env = os.environ
    if env.get("SALESDESK_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = env["SALESDESK_DATABASE_URL"]
    if env.get("SALESDESK_SECRET_KEY"):
        app.config["SECRET_KEY"] = env["SALESDESK_SECRET_KEY"]
    if env.get("SALESDESK_HTTPS") == "1":
        app.config["HTTPS"] = True
    if env.get("SALESDESK_BEHIND_PROXY") == "1":
        app.config["BEHIND_PROXY"] = True
    if env.get("SALESDESK_BASE_URL"):
        app.config["BASE_URL"] = env["SALESDESK_BASE_URL"]
    if env.get("SALESDESK_WEBHOOK_ALLOW_PRIVATE") == "1":
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    if env.get("SALESDESK_SQLITE_MMAP_BYTES"):
        app.config["SQLITE_MMAP_BYTES"] = int(env["SALESDESK_SQLITE_MMAP_BYTES"])

    app.config.update(overrides or {})
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = (app.config["UPLOAD_LIMIT_MB"] + 1) * MEGABYTE

    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'salesdesk.db'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = _with_psycopg3(app.config["SQLALCHEMY_DATABASE_URI"])
    if _is_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"]):
        # A worker serves one request at a time: one pooled connection (more open only
        # while needed). Each connection keeps its own page cache or map of the file.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 1, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(instance / "secret_key")
    if app.config.get("HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"


def _with_psycopg3(url):
    """postgres:// and postgresql:// URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _is_sqlite_file(url):
    # An in-memory database has a pool of its own (one shared connection).
    return url.startswith("sqlite") and url.split("://", 1)[1] not in ("", "/:memory:")


def _instance_secret_key(path):
    """Read the key generated on first start, creating it (mode 0600) if missing.

    The key is written to a private temporary file and hard-linked into place, so
    several workers starting at once agree on one complete key.
    """
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()

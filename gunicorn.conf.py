"""gunicorn settings for Salesdesk (read automatically from the working directory).

    gunicorn app:app                      # as the systemd unit in deploy/ runs it

Every value can be overridden by an environment variable or on the command line."""

import ctypes
import multiprocessing
import os
import signal
import sys

# Behind a proxy on the same machine (Caddy or nginx, see deploy/).
bind = os.environ.get("SALESDESK_BIND", "127.0.0.1:8000")

# Two workers per core plus one, but at most 4: a 1 GB VPS holds 4 workers (each
# stays under 200 MB), and SQLite has one writer at a time anyway.
workers = int(os.environ.get("SALESDESK_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 4)))

# Load the app once before forking: the workers share its memory (code, and the
# dictionaries when_ready loads below).
preload_app = True

# Exports of 100,000 rows stream for several seconds; imports are parsed and committed
# in the background, so no request holds a worker for long.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so memory cannot creep up over weeks.
max_requests = 2000
max_requests_jitter = 200

# Access log on stdout (journald keeps it), with the time each request took (µs);
# SALESDESK_ACCESS_LOG= (empty) turns it off.
accesslog = os.environ.get("SALESDESK_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("SALESDESK_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'


def when_ready(server):
    """In the master, before the workers fork: load pinyin, word segmentation, OpenCC,
    the compiled templates and the fuzzy name index once (~45 MB, and ~10 MB for 100,000
    customers, that every worker would otherwise load for itself; bench/load_memory.py)."""
    from salesdesk import load_shared_dictionaries

    load_shared_dictionaries(server.app.wsgi())
    release_free_memory()


def post_request(worker, req, environ, resp):
    """Hand the memory a request freed back to the system: glibc keeps freed blocks in
    the heap for the next request, so a worker's RSS stays at its largest page's."""
    release_free_memory()


# glibc's malloc_trim; None elsewhere (musl has none, macOS returns memory by itself).
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None) if sys.platform.startswith("linux") else None


def release_free_memory():
    if _malloc_trim is not None:
        _malloc_trim(0)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def post_fork(server, worker):
    """A worker leaves as soon as its master dies (SIGKILL, OOM): otherwise it keeps
    the port until its own parent check, up to half the timeout later, and the master
    the supervisor restarts cannot bind it. SIGTERM lets a request in progress finish."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != server.pid:  # the master died before the line above
        os.kill(os.getpid(), signal.SIGTERM)

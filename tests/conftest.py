"""Shared fixtures: an app on a throw-away database (SQLite always, PostgreSQL too when
SALESDESK_TEST_DATABASE_URL is set), logged-in clients per role, htmx helpers, a live
server and a Playwright browser on Debian's Chromium."""

import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from salesdesk import clock, create_app, jobs, notifications
from salesdesk.auth import services as accounts
from salesdesk.auth.models import Role
from salesdesk.chat import outbox as chat_outbox
from salesdesk.database import close_connections
from salesdesk.extensions import db
from salesdesk.ledger import importer
from salesdesk.ledger.similar import forget_name_indexes

from .helpers import Client, app_config, make_user

# Each feature's fixtures; their plain helpers are imported by name where they are used.
pytest_plugins = [
    "tests.fixtures.chat",
    "tests.fixtures.ledger",
    "tests.fixtures.kb",
    "tests.fixtures.recognition",
    "tests.fixtures.rules",
    "tests.fixtures.support",
]

POSTGRES_URL = os.environ.get("SALESDESK_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent


def _migrate(database_url):
    app = create_app(app_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _isolated_instance(tmp_path_factory):
    """Keep tests away from the developer's instance/ (config, secret key, database)."""
    path = tmp_path_factory.mktemp("instance")
    os.environ["SALESDESK_INSTANCE_PATH"] = str(path)
    yield path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, _isolated_instance):
    """A migrated SQLite file; each test works on its own copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database(_isolated_instance):
    """A migrated PostgreSQL database for this test run (one per xdist worker)."""
    name = f"salesdesk_test_{os.getpid()}_{secrets.token_hex(3)}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    url = _postgres_base_url().set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_base_url():
    return make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))


def _postgres_admin(*statements):
    """Run statements that make or drop databases (outside a transaction)."""
    # No pool: a connection idling here for the whole run would only be collected later.
    admin = create_engine(_postgres_base_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


# Rows the migrations write (the support desk's default request types): each test starts
# with them, as a fresh SQLite copy of the migrated template does.
MIGRATED_ROWS = ("support_types",)
_migrated_rows = {}


def _empty_postgres(app):
    with app.app_context():
        if not _migrated_rows:  # the first test of this database sees it as migrated
            for name in MIGRATED_ROWS:
                _migrated_rows[name] = [
                    dict(row._mapping) for row in db.session.execute(db.metadata.tables[name].select())
                ]
        # TRUNCATE costs ~0.1 s a test (it replaces each table's and index's files); a test
        # leaves a few rows in a few tables, so those are deleted, with the triggers that
        # guard append-only tables and foreign keys off, and every sequence restarts.
        written = db.session.scalars(
            text(
                " UNION ALL ".join(
                    f"SELECT '{table.name}' WHERE EXISTS (SELECT FROM \"{table.name}\")"
                    for table in db.metadata.sorted_tables
                )
            )
        ).all()
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        for name in written:
            db.session.execute(text(f'DELETE FROM "{name}"'))
        db.session.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false)"
                " FROM pg_sequences WHERE schemaname = current_schema()"
            )
        )
        # The indexes custom fields make at run time (salesdesk/fields/sql.py) go with them:
        # a unique one left behind would refuse the next test's equal values.
        made_by_fields = db.session.scalars(
            text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname ~ '^(ix|uq|tg)_custom_(customer|contact)_'"
            )
        ).all()
        for name in made_by_fields:
            db.session.execute(text(f'DROP INDEX "{name}"'))
        for name, rows in _migrated_rows.items():
            if rows:
                table = db.metadata.tables[name]
                db.session.execute(table.insert(), rows)
                db.session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {len(rows)})")
                )
        db.session.commit()


@pytest.fixture(scope="session")
def sqlite_folder(tmp_path_factory):
    """Where each SQLite test's database is, under the same name every time: one app
    serves every test on its address (see app)."""
    return tmp_path_factory.mktemp("sqlite")


@pytest.fixture
def sqlite_database(sqlite_folder, sqlite_template):
    """A fresh copy of the migrated SQLite file, at the same address for every test."""
    path = sqlite_folder / "salesdesk.db"
    _replace_sqlite_file(path, sqlite_template)
    return f"sqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def database_url(request):
    return request.getfixturevalue("sqlite_database" if request.param == "sqlite" else "postgres_database")


def _replace_sqlite_file(path, source):
    # Removed, not overwritten: a file the last test made read-only, or a connection it
    # left open, keeps the old file and its -wal to itself.
    for leftover in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(source, path)


@pytest.fixture
def empty_database(database_url, tmp_path):
    """empty_database() -> the URL of a new database without tables, on the test's backend
    (for migrations from scratch, or to restore a backup into)."""
    created = []

    def factory():
        created.append(f"salesdesk_empty_{os.getpid()}_{secrets.token_hex(3)}")
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / created[-1]}.db"
        _postgres_admin(f'CREATE DATABASE "{created[-1]}"')
        return _postgres_base_url().set(database=created[-1]).render_as_string(hide_password=False)

    yield factory
    if database_url.startswith("postgresql") and created:
        _postgres_admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in created))


# One app per database address and worker: making one compiled its ~140 routes (~0.1 s),
# and each test's new app compiled again the templates it drew. Reusing it took the
# suite from 23.6 to 16.4 minutes on two workers.
_apps = {}


@pytest.fixture
def app(database_url):
    """The worker's app on the test's database: the configuration a test changes is put
    back after it; anything else a test changes on the app must go through monkeypatch."""
    app = _apps.get(database_url)
    if app is None:
        app = _apps[database_url] = create_app(app_config(database_url))
        app.test_client_class = Client
    config = dict(app.config)
    forget_name_indexes()  # process-local caches of the previous test's rows
    if database_url.startswith("postgresql"):
        _empty_postgres(app)
    with app.app_context():
        yield app
        _wait_for_background_work()
        db.session.remove()
        close_connections(app)
    app.config.clear()
    app.config.update(config)


def _wait_for_background_work():
    """Background work a test started must finish before its database goes away."""
    for thread in [
        *jobs.THREADS.values(),
        *importer.THREADS.values(),
        *notifications.SENDERS,
        *chat_outbox.SENDERS,
    ]:
        thread.join(30)
    jobs.THREADS.clear()
    importer.THREADS.clear()
    notifications.SENDERS.clear()
    chat_outbox.SENDERS.clear()


# ---- the demo ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _loaded_demos():
    """database URL -> what `salesdesk demo` printed there, and the copy of the database it
    left (a file beside it, or a PostgreSQL database named after it)."""
    loaded = {}
    yield loaded
    copies = [copy for url, (_output, copy) in loaded.items() if url.startswith("postgresql")]
    if copies:
        _postgres_admin(*(f'DROP DATABASE IF EXISTS "{copy}"' for copy in copies))


@pytest.fixture
def demo(app, database_url, _loaded_demos):
    """The test's database as `salesdesk demo` leaves it; .output is what the command
    printed. Loading it takes 20-40 s: the first test of each worker and database loads
    it and keeps a copy, the next ones start from the copy."""
    db.session.remove()
    if database_url not in _loaded_demos:
        result = app.test_cli_runner().invoke(args=["salesdesk", "demo"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        close_connections(app)
        _loaded_demos[database_url] = (result.output, _copy_database(database_url))
    else:
        close_connections(app)
        _restore_database(database_url, _loaded_demos[database_url][1])
        forget_name_indexes()
    return SimpleNamespace(output=_loaded_demos[database_url][0])


def _copy_database(url):
    name = make_url(url).database
    if url.startswith("sqlite"):
        copy = Path(name).with_name("demo.db")
        with closing(sqlite3.connect(name)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)  # with what its -wal holds
        return copy
    _postgres_admin(f'CREATE DATABASE "{name}_demo" TEMPLATE "{name}"')
    return f"{name}_demo"


def _restore_database(url, copy):
    name = make_url(url).database
    if url.startswith("sqlite"):
        _replace_sqlite_file(Path(name), copy)
    else:
        _postgres_admin(f'DROP DATABASE "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}" TEMPLATE "{copy}"')


@pytest.fixture
def make_app(database_url):
    """make_app(**config) -> another app on the test's database (a second worker, say)."""
    created = []

    def factory(**overrides):
        other = create_app({**app_config(database_url), **overrides})
        other.test_client_class = Client
        created.append(other)
        return other

    yield factory
    _wait_for_background_work()
    for other in created:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _real_clock():
    yield
    clock.set_now(None)


@pytest.fixture(autouse=True)
def _uploads_wait_for_their_read(monkeypatch):
    """An upload answers at once when its file is read within 1.5 s: a test of that answer
    (a refusal found while reading, say) must not depend on how busy the machine is. CI's
    two cores took longer to read a nine-row workbook once, and the upload answered 303.
    Tests of the background path set the wait to 0."""
    monkeypatch.setattr(importer, "READ_WAIT_SECONDS", 60)


@pytest.fixture
def frozen_clock():
    """Set the app's clock: frozen_clock(datetime(..., tzinfo=UTC))."""
    return clock.set_now


@pytest.fixture
def world(app):
    """Two teams with everyone a test needs. Team A: manager, two reps, support;
    team B: manager, rep; and an administrator."""
    team_a = accounts.get_or_create_team("华东大区")
    team_b = accounts.get_or_create_team("华南大区")
    return SimpleNamespace(
        team_a=team_a,
        team_b=team_b,
        admin=make_user("admin@test.example", Role.ADMIN, name="管理员"),
        manager_a=make_user("manager.a@test.example", Role.MANAGER, team_a, "王经理"),
        rep_a=make_user("rep.a@test.example", Role.REP, team_a, "张三"),
        rep_a2=make_user("rep.a2@test.example", Role.REP, team_a, "李四"),
        support_a=make_user("support.a@test.example", Role.SUPPORT, team_a, "赵支持"),
        manager_b=make_user("manager.b@test.example", Role.MANAGER, team_b, "黄经理"),
        rep_b=make_user("rep.b@test.example", Role.REP, team_b, "王五"),
    )


@pytest.fixture
def full_sqlite_app(make_app, database_url):
    """A second app on the test's SQLite database, which cannot grow by a page: a full
    disk as SQLite sees it. PostgreSQL's disk-full error takes the same path."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's page limit stands in for the full disk")
    full = make_app()
    with full.app_context():

        @event.listens_for(db.engine, "connect")
        def no_room_to_grow(connection, _record):
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count = {pages}")

        db.engine.dispose()
    return full


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def client_as(app):
    """client_as(user) -> a fresh client logged in as that user."""
    return lambda user: app.test_client().login_as(user)


# ---- live server and browser --------------------------------------------------------


@pytest.fixture
def live_server(app):
    """The app served over HTTP on a free port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def gunicorn_server(database_url, tmp_path):
    """The app under gunicorn with 4 worker processes on the test's database: for
    concurrency and crash tests that need real processes, not threads. Yields
    .url and .process (the master)."""
    port = free_port()
    env = {
        **os.environ,
        "SALESDESK_DATABASE_URL": database_url,
        "SALESDESK_SECRET_KEY": "test-secret-key",
        "SALESDESK_INSTANCE_PATH": str(tmp_path / "gunicorn-instance"),
        "SALESDESK_ACCESS_LOG": "",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "4",
            "--preload",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--log-level",
            "warning",
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/login", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read().decode()) from None
            time.sleep(0.2)
    yield SimpleNamespace(url=url, process=process)
    # Graceful: a worker ends the request it is writing first. SIGQUIT stopped it in the
    # middle of a response (SystemExit in sock.sendall), a traceback the log check below
    # then took for the app's when a test left requests in flight.
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output, output


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Script errors fail the test; a test that expects an error response clears them.
    page.reported_errors = []
    page.on("pageerror", lambda error: page.reported_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.reported_errors.append(message.text))
    yield page
    errors = page.reported_errors
    context.close()
    assert not errors, f"the page reported errors: {errors}"

"""Running in production: versioned static files, and a clear page (not a traceback)
when the database is read-only or full."""

import re
import time

import pytest
from sqlalchemy import create_engine, func, select, text

from salesdesk import database
from salesdesk.extensions import db
from salesdesk.jobs import JobLease
from salesdesk.ledger.models import Customer
from tests.fixtures.ledger import new_customer_form
from tests.web.test_import_hardening import full_disk  # noqa: F401 - a fixture

# ---- static files ----------------------------------------------------------------------------


def test_pages_link_static_files_with_a_content_version(client_as, world):
    client = client_as(world.rep_a)
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/static/[^"#]+)', html)
    assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls
    css = next(url for url in urls if "app.css" in url)
    response = client.get(css)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    # Without a version the browser must check again.
    plain = client.get("/static/css/app.css")
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")


def test_a_changed_file_gets_a_new_version(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    (tmp_path / "x.js").write_text("one")
    from flask import url_for

    with app.test_request_context():
        first = url_for("static", filename="x.js")
        (tmp_path / "x.js").write_text("two, longer")
        # Read once per request: the page links the file alike everywhere.
        assert url_for("static", filename="x.js") == first
        missing = url_for("static", filename="nothing.js")
    with app.app_context(), app.test_request_context():  # the next request sees the change
        second = url_for("static", filename="x.js")
    assert first != second and "?v=" in first and missing == "/static/nothing.js"


# ---- a database that cannot be written ------------------------------------------------------


@pytest.fixture
def read_only_app(make_app, database_url, world):
    """A second app on the same database, which it may read but not write."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        return make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true")
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c default_transaction_read_only=on"}}
    )


def customers():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Customer))


def test_a_read_only_database_gives_a_clear_error_page(read_only_app, world):
    before = customers()
    client = read_only_app.test_client().login_as(world.rep_a)
    assert client.get("/customers").status_code == 200, "reading still works"
    response = client.post("/customers/new", data=new_customer_form())
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "只读" in html and "没有保存" in html and "Traceback" not in html
    htmx = client.post("/customers/new", data=new_customer_form(name="另一家公司"), htmx=True)
    assert htmx.status_code == 503 and "HX-Trigger" in htmx.headers
    assert customers() == before


def test_a_full_sqlite_database_gives_a_clear_error_page(full_sqlite_app, world):
    full = full_sqlite_app
    before = customers()
    client = full.test_client().login_as(world.rep_a)
    form = new_customer_form(notes="备注" * 2400)
    response = client.post("/customers/new", data=form)
    assert response.status_code == 503 and "磁盘已满" in response.get_data(as_text=True)
    assert customers() == before


# ---- health check ---------------------------------------------------------------------------


def test_healthz_says_ok_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "current",
        "instance": "ok",
    }
    assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers
    # Its write probes leave nothing behind.
    assert db.session.scalar(select(func.count()).select_from(JobLease)) == 0


def test_finding_10_healthz_fails_when_the_instance_folder_cannot_be_written(client, full_disk):  # noqa: F811
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["instance"] == "not writable: No space left on device"


def test_finding_10_healthz_fails_when_the_database_refuses_a_write(read_only_app):
    response = read_only_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"].startswith("not writable")


def test_healthz_write_probe_does_not_wait_for_a_busy_writer(client, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single write lock")
    writer = create_engine(database_url)
    # Another process holds SQLite's write lock (a long import commit, say).
    with writer.connect().execution_options(write_transaction=True) as connection:
        connection.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE
        started = time.monotonic()
        response = client.get("/healthz")
        assert response.status_code == 200 and time.monotonic() - started < 2
    writer.dispose()


@pytest.fixture
def set_revision(app):
    """Pretend the database is at another revision; put the real one back afterwards
    (alembic_version outlives the per-test emptying of the PostgreSQL tables)."""
    real = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()

    def set_to(revision):
        db.session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        db.session.commit()

    yield set_to
    set_to(real)


def test_healthz_reports_pending_migrations(client, set_revision):
    head = database.migration_scripts().get_revision(database.current_revision())
    set_revision(head.down_revision)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "1 pending: run `salesdesk upgrade`"


def test_healthz_reports_a_database_from_newer_code(client, set_revision):
    set_revision("ffffffffffff")
    response = client.get("/healthz")
    assert response.status_code == 503 and "ffffffffffff" in response.get_json()["migrations"]


def test_healthz_reports_an_unreachable_database(app, make_app, database_url):
    if database_url.startswith("sqlite"):
        broken = make_app(SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent/dir/salesdesk.db")
    else:
        broken = make_app(SQLALCHEMY_DATABASE_URI="postgresql://postgres@127.0.0.1:1/none")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"

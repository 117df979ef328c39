"""`flask salesdesk backup` and `restore`, on SQLite and PostgreSQL: a backup taken while
gunicorn serves writers holds every row committed before it started, and restores into
a fresh database; restore refuses what is not a Salesdesk backup, and changes nothing
unless confirmed; backup does not overwrite."""

import re
import sqlite3
import threading
import time

import pytest
from alembic import command
from flask import has_app_context
from sqlalchemy import func, select, text

from salesdesk import create_app, database
from salesdesk.audit import AuditEvent
from salesdesk.extensions import db
from salesdesk.ledger.models import Customer, FollowUp, StageChange
from tests.fixtures.ledger import follow_up_form, make_customer, new_customer_form
from tests.helpers import LiveClient, app_config
from tests.schema_helpers import schema_objects

FTS5_TABLES = ("customer_search", "contact_search", "contact_name_search", "kb_search")


@pytest.fixture
def fresh_app(empty_database):
    """An app on a new database without tables (to restore into, say)."""
    app = create_app(app_config(empty_database()))
    yield app
    with app.app_context():
        db.engine.dispose()


def run(app, *args, input=None):
    """A salesdesk command on `app`, as the admin would type it."""
    if has_app_context():
        db.session.rollback()  # the test's own reads must not hold locks a restore waits for
    with app.app_context():
        return app.test_cli_runner().invoke(args=["salesdesk", *map(str, args)], input=input)


def customer_names():
    db.session.rollback()
    return set(db.session.scalars(select(Customer.name)))


def sqlite_file(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def is_sqlite(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


# ---- under load ------------------------------------------------------------------------


class Writer(threading.Thread):
    """A rep creating customers and logging follow-ups through the live app, recording
    each one once the response says it committed."""

    def __init__(self, base_url, rep, number, committed, stop):
        super().__init__(daemon=True)
        self.client = LiveClient(base_url, rep.email)
        self.number, self.committed, self.stop, self.error = number, committed, stop, None

    def run(self):
        try:
            for n in range(1, 10_000):
                if self.stop.is_set():
                    break
                form = new_customer_form(
                    name=f"备份压测{self.number}号{n:05d}科技有限公司",
                    contact_phone=f"139{self.number}{n:07d}",
                    contact_email=f"load{self.number}.{n}@test.example",
                    confirm_similar="y",
                )
                response = self.client.post("/customers/new", data=form)
                assert response.status_code == 303, response.text
                customer_id = int(response.headers["Location"].rsplit("/", 1)[1])
                self.committed.append(("customer", customer_id))
                response = self.client.post(
                    f"/customers/{customer_id}/follow-ups",
                    data=follow_up_form(content=f"load {customer_id}"),
                )
                assert response.status_code == 303, response.text
                self.committed.append(("follow_up", customer_id))
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.client.close()


def wait_for(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writers stalled"
        time.sleep(0.05)


def test_backup_under_write_load_holds_every_row_committed_before_it(
    app, world, gunicorn_server, fresh_app, tmp_path
):
    committed, stop = [], threading.Event()
    writers = [
        Writer(gunicorn_server.url, rep, number, committed, stop)
        for number, rep in enumerate([world.rep_a, world.rep_a2, world.rep_b], start=1)
    ]
    for writer in writers:
        writer.start()
    try:
        wait_for(lambda: len(committed) >= 30)
        before = list(committed)  # committed before the backup started
        result = run(app, "backup", tmp_path / "load.backup")
        after_backup = len(committed)
        wait_for(lambda: len(committed) >= after_backup + 6)  # the app kept serving
    finally:
        stop.set()
        for writer in writers:
            writer.join(60)
    assert [writer.error for writer in writers] == [None, None, None]
    assert result.exit_code == 0, result.output
    if is_sqlite(app):
        assert "SQLite backup API" in result.output and "integrity check passed" in result.output
    else:
        assert "pg_dump --format=custom" in result.output
    reported = int(re.search(r"customers (\d+)", result.output).group(1))

    source_schema = schema_objects()
    restored = fresh_app
    restore = run(restored, "restore", tmp_path / "load.backup", "--yes")
    assert restore.exit_code == 0, restore.output
    with restored.app_context():
        customers = set(db.session.scalars(select(Customer.id)))
        followed_up = set(
            db.session.scalars(select(FollowUp.customer_id).where(FollowUp.content.like("load %")))
        )
        assert {id for kind, id in before if kind == "customer"} <= customers
        assert {id for kind, id in before if kind == "follow_up"} <= followed_up
        # The counts printed are those of the backup.
        assert len(customers) == reported
        # A snapshot holds whole transactions: each customer with its first stage and audit row.
        assert db.session.scalar(select(func.count(func.distinct(StageChange.customer_id)))) == len(customers)
        created = select(func.count()).where(AuditEvent.action == "customer.created")
        assert db.session.scalar(created.select_from(AuditEvent)) == len(customers)
        assert database.pending_migrations() == []
        assert schema_objects() == source_schema  # triggers, search tables and functions too
        if is_sqlite(restored):
            assert_sqlite_intact(sqlite_file(restored))
            assert_sqlite_intact(tmp_path / "load.backup")


def assert_sqlite_intact(path):
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        for table in FTS5_TABLES:  # the search indexes agree with their tables
            connection.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    finally:
        connection.close()


# ---- refusals ----------------------------------------------------------------------------


def writing(data):
    def make(path):
        path.write_bytes(data)
        return path

    return make


def not_salesdesk_sqlite(path):
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()
    return path


@pytest.mark.parametrize(
    "make_file, message",
    [
        (writing(b"\x00garbage" * 500), "not a Salesdesk backup"),
        (writing(b""), "not a Salesdesk backup"),
        (writing("Id,Name\n1,客户\n".encode()), "not a Salesdesk backup"),
        (not_salesdesk_sqlite, "not a Salesdesk backup|is a SQLite backup"),
        (writing(b"PGDMP" + b"\x01" * 400), "not a Salesdesk backup|is a PostgreSQL backup"),
        (lambda path: path, "is not a file"),
        (lambda path: path.mkdir() or path, "is a directory"),
    ],
    ids=["binary", "empty", "csv", "other-sqlite", "fake-pg-dump", "missing", "directory"],
)
def test_restore_refuses_what_is_not_a_salesdesk_backup(app, world, tmp_path, make_file, message):
    make_customer(world.rep_a, "留存科技有限公司")
    path = make_file(tmp_path / "suspicious.backup")
    result = run(app, "restore", path, "--yes")
    assert result.exit_code != 0
    assert re.search(message, result.output) and "Traceback" not in result.output
    assert "留存科技有限公司" in customer_names()


def test_restore_refuses_a_backup_of_newer_code(app, world, tmp_path):
    make_customer(world.rep_a, "旧客户科技有限公司")
    head = database.current_revision()
    path = tmp_path / "newer.backup"
    if is_sqlite(app):
        assert run(app, "backup", path).exit_code == 0
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE alembic_version SET version_num = 'fedcba987654'")
        connection.close()
    else:
        set_revision("fedcba987654")
        try:
            assert run(app, "backup", path).exit_code == 0
        finally:
            set_revision(head)  # the PostgreSQL database is shared by the session's tests
    make_customer(world.rep_a, "新客户科技有限公司")
    result = run(app, "restore", path, "--yes")
    assert result.exit_code != 0
    assert "newer version of Salesdesk" in result.output and "fedcba987654" in result.output
    assert {"旧客户科技有限公司", "新客户科技有限公司"} <= customer_names()
    assert database.current_revision() == head


def set_revision(revision):
    db.session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    db.session.commit()


def test_restore_asks_first_and_a_no_changes_nothing(app, world, tmp_path):
    make_customer(world.rep_a, "备份前科技有限公司")
    path = tmp_path / "salesdesk.backup"
    assert run(app, "backup", path).exit_code == 0
    make_customer(world.rep_a, "备份后科技有限公司")

    declined = run(app, "restore", path, input="n\n")
    assert declined.exit_code != 0 and "Replace everything in the" in declined.output
    assert "Aborted" in declined.output
    assert {"备份前科技有限公司", "备份后科技有限公司"} <= customer_names()

    confirmed = run(app, "restore", path, input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "Restored" in confirmed.output and "Restart the app" in confirmed.output
    names = customer_names()
    assert "备份前科技有限公司" in names and "备份后科技有限公司" not in names


def test_a_truncated_backup_changes_nothing(app, world, tmp_path):
    for n in range(20):
        make_customer(world.rep_a, f"截断{n}号科技有限公司", phone=f"1380000{n:04d}")
    path = tmp_path / "salesdesk.backup"
    assert run(app, "backup", path).exit_code == 0
    make_customer(world.rep_a, "备份后科技有限公司")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])

    result = run(app, "restore", path, "--yes")
    assert result.exit_code != 0 and "Traceback" not in result.output
    names = customer_names()
    assert "备份后科技有限公司" in names and len([name for name in names if name.startswith("截断")]) == 20
    if is_sqlite(app):
        assert_sqlite_intact(sqlite_file(app))


def test_backup_does_not_overwrite_without_force(app, world, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    path = folder / "precious.backup"
    path.write_bytes(b"last week's backup")
    result = run(app, "backup", path)
    assert result.exit_code != 0 and "exists already; use --force" in result.output
    assert path.read_bytes() == b"last week's backup"
    assert [item.name for item in folder.iterdir()] == ["precious.backup"]  # no partial file left

    forced = run(app, "backup", path, "--force")
    assert forced.exit_code == 0, forced.output
    assert path.read_bytes() != b"last week's backup"
    assert path.stat().st_mode & 0o777 == 0o600, "only the service user reads the customer list"
    assert run(app, "restore", path, "--yes").exit_code == 0


def test_restoring_an_older_backup_applies_the_newer_migrations(app, world, fresh_app, tmp_path):
    old = fresh_app
    with old.app_context():
        revisions = [
            script.revision for script in reversed(list(database.migration_scripts().walk_revisions()))
        ]
        command.upgrade(old.extensions["migrate"].migrate.get_config(), revisions[-3])
    backup = run(old, "backup", tmp_path / "old.backup")
    assert backup.exit_code == 0, backup.output

    result = run(app, "restore", tmp_path / "old.backup", "--yes")
    assert result.exit_code == 0, result.output
    assert f"at migration {revisions[-3]}" in result.output
    assert f"Then upgraded it from {revisions[-3]}" in result.output and "(2 migrations)" in result.output
    assert database.pending_migrations() == []
    assert customer_names() == set()  # the backup's (empty) ledger replaced the world's


# ---- PostgreSQL tools --------------------------------------------------------------------


def test_backup_without_pg_dump_says_what_to_install(app, tmp_path, monkeypatch):
    if is_sqlite(app):
        pytest.skip("SQLite needs no external tool")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run(app, "backup", tmp_path / "salesdesk.backup")
    assert result.exit_code != 0 and "pg_dump was not found" in result.output
    assert not (tmp_path / "salesdesk.backup").exists()


def test_a_failing_pg_dump_is_reported(app, tmp_path, monkeypatch):
    if is_sqlite(app):
        pytest.skip("SQLite needs no external tool")
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump: error: server version mismatch' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    result = run(app, "backup", tmp_path / "salesdesk.backup")
    assert result.exit_code != 0
    assert "pg_dump failed (exit status 1): pg_dump: error: server version mismatch" in result.output
    assert sorted(item.name for item in tmp_path.iterdir()) == ["bin"]

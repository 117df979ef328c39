"""Migrations, on SQLite and PostgreSQL: from an empty database they build exactly what
the models describe, they go down and back up again, and `flask salesdesk upgrade`
applies what is pending."""

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from salesdesk import create_app, database
from salesdesk.auth import services as accounts
from salesdesk.auth.models import Role
from salesdesk.database import include_in_migrations
from salesdesk.extensions import db
from salesdesk.ledger.followups import log_follow_up
from salesdesk.ledger.models import FollowUp
from tests.fixtures.ledger import make_customer
from tests.helpers import app_config, make_user
from tests.schema_helpers import postgres_snapshot, schema_snapshot, sqlite_snapshot

FTS5_SHADOWS = ("_data", "_idx", "_docsize", "_config")

# What a database migrated from scratch holds beyond the models, per dialect, and why.
# Every entry must still show up (a stale entry fails the test too).
NOT_IN_MODELS = {
    "sqlite": {
        **{
            ("remove_table", name): "FTS5 virtual table for search, kept in sync by triggers; "
            "SQLAlchemy cannot declare virtual tables"
            for name in ("customer_search", "contact_search", "contact_name_search", "kb_search")
        },
        **{
            ("remove_table", name + shadow): "FTS5's own storage behind a virtual table"
            for name in ("customer_search", "contact_search", "contact_name_search", "kb_search")
            for shadow in FTS5_SHADOWS
        },
    },
    "postgresql": {
        ("remove_index", "contacts", "ix_contacts_search"): "GIN trigram index (pg_trgm operator "
        "class) for substring search on phones and e-mails; PostgreSQL only",
        ("remove_column", "customers", "search_vector"): "generated tsvector column; PostgreSQL "
        "only (SQLite searches customer_search), read through text() in ledger/search.py",
        ("remove_index", "customers", "ix_customers_search_vector"): "GIN index on that tsvector",
        ("remove_column", "contacts", "name_vector"): "generated tsvector of contacts.name_tokens; "
        "PostgreSQL only (SQLite searches contact_name_search), read through text() in ledger/search.py",
        ("remove_index", "contacts", "ix_contacts_name_search"): "GIN index on that tsvector",
        ("remove_index", "kb_articles", "ix_kb_articles_search"): "GIN index on the tsvector the "
        "kb_articles_search_vector() trigger fills; PostgreSQL only",
        ("remove_index", "kb_articles", "ix_kb_articles_search_title"): "GIN expression index "
        "(to_tsvector of the title); PostgreSQL only",
    },
}

# What a downgrade to base leaves behind, and why that is harmless.
LEFT_AFTER_DOWNGRADE = {
    "sqlite": set(),
    "postgresql": {
        # pg_trgm may be shared with other schemas; CREATE EXTENSION IF NOT EXISTS again.
        "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;",
        # The first migration creates it with CREATE OR REPLACE.
        "CREATE FUNCTION public.refuse_history_change() RETURNS trigger",
    },
}


@pytest.fixture
def empty_app(empty_database):
    """An app on a database without any table."""
    app = create_app(app_config(empty_database()))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def alembic_config(app):
    return app.extensions["migrate"].migrate.get_config()


def diff_key(diff):
    operation = diff[0]
    if operation in ("add_table", "remove_table"):
        return (operation, diff[1].name)
    if operation in ("add_index", "remove_index"):
        return (operation, diff[1].table.name, diff[1].name)
    if operation in ("add_column", "remove_column"):
        return (operation, diff[2], diff[3].name)
    if operation.startswith("modify_"):
        return (operation, diff[2], diff[3])
    return (operation, str(diff[1]))


def schema_differences(include_name=None):
    """Autogenerate's comparison of the database with the models, as keys."""
    opts = {"compare_type": True, "compare_server_default": True}
    if include_name:
        opts["include_name"] = include_name
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=opts)
        diffs = compare_metadata(context, db.metadata)
    # Column changes come grouped in lists, one per column.
    flat = [item for diff in diffs for item in (diff if isinstance(diff, list) else [diff])]
    return [diff_key(diff) for diff in flat]


def test_migrations_from_empty_build_what_the_models_describe(empty_app):
    command.upgrade(alembic_config(empty_app), "head")
    dialect = db.engine.dialect.name
    differences = schema_differences()
    expected = NOT_IN_MODELS[dialect]
    assert [key for key in differences if key not in expected] == []
    assert sorted(set(expected) - set(differences)) == [], "stale entries in NOT_IN_MODELS"
    # `flask db migrate` (which filters with include_in_migrations) would write nothing.
    assert schema_differences(include_in_migrations) == []


def test_one_step_down_and_up_again_restores_the_schema(empty_app):
    config = alembic_config(empty_app)
    command.upgrade(config, "head")
    at_head = schema_snapshot()
    head = database.current_revision()
    command.downgrade(config, "-1")
    assert database.pending_migrations() == [head]
    command.upgrade(config, "head")
    assert database.current_revision() == head
    assert schema_snapshot() == at_head


def test_all_the_way_down_and_up_again(empty_app):
    config = alembic_config(empty_app)
    command.upgrade(config, "head")
    at_head = schema_snapshot()
    command.downgrade(config, "base")
    assert database.current_revision() is None
    assert leftovers() == LEFT_AFTER_DOWNGRADE[db.engine.dialect.name]
    command.upgrade(config, "head")
    assert schema_snapshot() == at_head
    assert database.pending_migrations() == []


# ---- pending_migrations() and `flask salesdesk upgrade` --------------------------------


def test_pending_migrations_lists_what_is_missing_oldest_first(empty_app):
    config = alembic_config(empty_app)
    scripts = database.migration_scripts()
    every = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert database.pending_migrations() == every
    command.upgrade(config, every[2])
    assert database.pending_migrations() == every[3:]
    command.upgrade(config, "head")
    assert database.pending_migrations() == []


def test_pending_migrations_refuses_a_revision_from_newer_code(app):
    head = database.current_revision()
    set_revision("fedcba987654")
    try:
        with pytest.raises(database.UnknownRevision, match="fedcba987654"):
            database.pending_migrations()
        result = app.test_cli_runner().invoke(args=["salesdesk", "upgrade"])
        assert result.exit_code != 0 and "fedcba987654" in result.output
    finally:
        set_revision(head)  # the PostgreSQL database is shared by the session's tests


def set_revision(revision):
    db.session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    db.session.commit()


def test_upgrade_command_says_what_it_did(empty_app):
    runner = empty_app.test_cli_runner()
    every = database.pending_migrations()
    command.upgrade(alembic_config(empty_app), every[-3])
    result = runner.invoke(args=["salesdesk", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"from {every[-3]} (" in result.output and f"to {every[-1]} (" in result.output
    assert "(2 migrations)" in result.output
    assert database.pending_migrations() == []
    again = runner.invoke(args=["salesdesk", "upgrade"])
    assert again.exit_code == 0 and "already current" in again.output and every[-1] in again.output


def test_upgrade_command_builds_an_empty_database(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["salesdesk", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "from an empty database" in result.output
    assert database.pending_migrations() == []


def leftovers():
    """What remains besides alembic_version after a downgrade to base."""
    if db.engine.dialect.name == "sqlite":
        return {name for name in sqlite_snapshot() if name[1] != "alembic_version"}
    dump = postgres_snapshot()
    statements = {line for line in dump if line.startswith(("CREATE ", "ALTER ", "COMMENT "))}
    return {
        line
        for line in statements
        if "alembic_version" not in line and not line.startswith("COMMENT ON EXTENSION")
    }


# ---- migrations that fill a column from the history --------------------------------------


def test_follow_ups_previous_at_is_filled_as_the_write_path_keeps_it(empty_app, frozen_clock):
    """0028 fills follow_ups.previous_at for the rows made before it; what it writes is
    what ledger.followups keeps for new ones (two authors, a backdated follow-up and a
    tie on the moment)."""
    command.upgrade(alembic_config(empty_app), "head")
    frozen_clock(datetime(2026, 11, 30, 8, tzinfo=UTC))
    team = accounts.get_or_create_team("华东大区")
    rep = make_user("rep.a@test.example", Role.REP, team, "张三")
    manager = make_user("manager.a@test.example", Role.MANAGER, team, "王经理")
    customer = make_customer(rep, "宁波港联物流有限公司")
    for author, day in ((rep, 20), (rep, 5), (manager, 10), (rep, 12), (rep, 12), (manager, 3)):
        when = datetime(2026, 11, day, 9, tzinfo=UTC)
        log_follow_up(author, customer.id, channel="phone", content="跟进", occurred_at=when)
    kept = previous_moments()
    assert sum(moment is None for moment in kept.values()) == 2  # each author's first
    down_and_up_again(empty_app, "2e9c4a7f6b13")  # to before 0028
    assert previous_moments() == kept


def down_and_up_again(app, revision):
    db.session.commit()  # end the read: PostgreSQL's ALTER TABLE would wait for it
    config = alembic_config(app)
    command.downgrade(config, revision)
    command.upgrade(config, "head")


def previous_moments():
    db.session.expire_all()
    return dict(db.session.execute(select(FollowUp.id, FollowUp.previous_at)).all())


def test_follow_up_counts_are_filled_as_the_write_path_keeps_them(empty_app, frozen_clock):
    """0030 counts the follow-ups made before it per author and local month, in each
    author's zone, as performance.follow_up_counts keeps them for new ones (two zones,
    a backdated follow-up, a moment that is another month in one of them)."""
    command.upgrade(alembic_config(empty_app), "head")
    frozen_clock(datetime(2026, 12, 20, 8, tzinfo=UTC))
    east = accounts.get_or_create_team("华东大区")
    west = accounts.create_team(name="欧洲大区", timezone="Europe/London", actor=None)
    rep = make_user("rep.a@test.example", Role.REP, east, "张三")
    abroad = make_user("rep.w@test.example", Role.REP, west, "李四")
    customer = make_customer(rep, "宁波港联物流有限公司")
    other = make_customer(abroad, "伦敦贸易有限公司")
    for author, target, day, hour, channel in (
        (rep, customer, 20, 9, "phone"),
        (rep, customer, 30, 17, "visit"),  # 1 December in Shanghai
        (rep, customer, 5, 9, "wechat"),  # backdated
        (abroad, other, 30, 17, "visit"),  # still 30 November in London
        (abroad, other, 12, 9, "email"),
    ):
        when = datetime(2026, 11, day, hour, tzinfo=UTC)
        log_follow_up(author, target.id, channel=channel, content="跟进", occurred_at=when)
    kept = follow_up_counts()
    assert len(kept) == 5
    down_and_up_again(empty_app, "3b7e9d2a4c15")  # to before 0030
    assert follow_up_counts() == kept


def follow_up_counts():
    db.session.expire_all()
    rows = db.session.execute(
        text("SELECT author_id, zone, month, channel, previous_month, count FROM follow_up_counts")
    )
    return sorted(tuple(str(value) for value in row) for row in rows)

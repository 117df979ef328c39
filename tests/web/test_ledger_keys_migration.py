"""Finding 6, for rows stored before the fix: the migration recomputes their keys and
cleans their names, and leaves a row whose new key another row holds as it is."""

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from salesdesk import create_app, database
from salesdesk.extensions import db
from salesdesk.ledger import keys
from tests.helpers import app_config

REVISION = "4c2732d479c0"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def config(empty_database):
    """Alembic's config, on a database migrated up to the revision before the fix."""
    app = create_app(app_config(empty_database()))
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        command.upgrade(config, database.migration_scripts().get_revision(REVISION).down_revision)
        yield config
        db.session.remove()
        db.engine.dispose()


def insert(table, **values):
    columns = ", ".join(values)
    placeholders = ", ".join(f":{column}" for column in values)
    db.session.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"), values)


def insert_customer(id, name, name_key):
    insert(
        "customers",
        id=id,
        kind="company",
        name=name,
        name_key=name_key,
        industry="",
        province="",
        city="",
        source="other",
        grade="C",
        stage="lead",
        expected_amount=0,
        notes="",
        sort_name="",
        search_tokens="",
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def insert_contact(id, customer_id, name, phones):
    insert(
        "contacts",
        id=id,
        customer_id=customer_id,
        name=name,
        title="",
        wechat="",
        search_text=" ".join(phones),
        created_at=NOW,
    )
    for number in phones:
        # What the old phone_key made of a number in other digits: those digits.
        insert("contact_phones", contact_id=id, number=number, key=number)


def column(sql):
    return dict(db.session.execute(text(sql)).all())


def test_finding_6_the_migration_brings_stored_keys_and_names_in_line(config, capfd):
    insert_customer(1, "腾飞科技有限公司", "腾飞科技")
    # Saved through the hole: the same name with a combining accent, the old key kept it.
    insert_customer(2, "深圳市腾飞科技\u0301有限公司", "腾飞科技\u0301")
    insert_customer(3, "杭州\u3164云栖数据科技有限公司", "杭州\u1160云栖数据科技")
    insert_contact(1, 1, "王总", ["13900000000"])
    insert_contact(2, 3, "陈\u200b经理", ["١٣٨٠٠١٣٨٠٠٠", "١٣٩٠٠٠٠٠٠٠٠"])
    db.session.commit()

    command.upgrade(config, REVISION)
    logged = capfd.readouterr().err  # Alembic's logging configuration writes to stderr

    assert column("SELECT id, name FROM customers") == {
        1: "腾飞科技有限公司",
        2: "深圳市腾飞科技\u0301有限公司",  # its new key is customer 1's: a duplicate to merge
        3: "杭州云栖数据科技有限公司",
    }
    assert column("SELECT id, name_key FROM customers") == {
        1: "腾飞科技",
        2: "腾飞科技\u0301",
        3: keys.company_key("杭州云栖数据科技有限公司"),
    }
    assert "yunqi" in column("SELECT id, search_tokens FROM customers")[3]
    assert column("SELECT number, key FROM contact_phones") == {
        "13900000000": "13900000000",
        "١٣٨٠٠١٣٨٠٠٠": "13800138000",
        "١٣٩٠٠٠٠٠٠٠٠": "١٣٩٠٠٠٠٠٠٠٠",  # contact 1 has this number
    }
    assert column("SELECT id, name FROM contacts") == {1: "王总", 2: "陈经理"}
    assert column("SELECT id, search_text FROM contacts")[2].split()[0] == "13800138000"
    assert "1 customers, 1 contacts, 1 phone numbers. Left as they are" in logged
    assert ": 1 customers, 0 contacts (e-mail), 1 phone numbers." in logged

"""ledger: contact names are searchable

A contact's name (郭子豪, 王总) finds its customer from the list's search box. Its tokens
(salesdesk.ledger.search.contact_name_tokens: bigrams and Latin words) are stored in
contacts.name_tokens and indexed as customer names are: an FTS5 table kept current by
triggers on SQLite, a generated tsvector with a GIN index on PostgreSQL. Rows stored
before get their tokens from the app's own function, so old and new rows match alike.

Revision ID: 0c9d2e7f4a61
Revises: 5c2e9b7d41a8
Create Date: 2026-12-05 09:00:00

"""

import sqlalchemy as sa
from alembic import op

from salesdesk.ledger import search

revision = "0c9d2e7f4a61"
down_revision = "5c2e9b7d41a8"
branch_labels = None
depends_on = None

BATCH = 5_000

contacts = sa.table("contacts", sa.column("id"), sa.column("name"), sa.column("name_tokens"))

# Plain ALTER TABLE, not a batch: a batch rebuilds the table on SQLite and loses the
# triggers that keep contact_search current.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE contact_name_search USING fts5(name_tokens, content='contacts', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER contact_name_search_insert AFTER INSERT ON contacts BEGIN "
    "INSERT INTO contact_name_search(rowid, name_tokens) VALUES (new.id, new.name_tokens); END",
    "CREATE TRIGGER contact_name_search_delete AFTER DELETE ON contacts BEGIN "
    "INSERT INTO contact_name_search(contact_name_search, rowid, name_tokens) "
    "VALUES ('delete', old.id, old.name_tokens); END",
    "CREATE TRIGGER contact_name_search_update AFTER UPDATE OF name_tokens ON contacts BEGIN "
    "INSERT INTO contact_name_search(contact_name_search, rowid, name_tokens) "
    "VALUES ('delete', old.id, old.name_tokens); "
    "INSERT INTO contact_name_search(rowid, name_tokens) VALUES (new.id, new.name_tokens); END",
]
SQLITE_SEARCH_DROP = [
    "DROP TRIGGER contact_name_search_insert",
    "DROP TRIGGER contact_name_search_delete",
    "DROP TRIGGER contact_name_search_update",
    "DROP TABLE contact_name_search",
]
# A stored tsvector, as for customers (0005): matching does not parse the tokens per row.
POSTGRES_SEARCH = [
    "ALTER TABLE contacts ADD COLUMN name_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', name_tokens)) STORED",
    "CREATE INDEX ix_contacts_name_search ON contacts USING gin (name_vector)",
]
POSTGRES_SEARCH_DROP = ["DROP INDEX ix_contacts_name_search", "ALTER TABLE contacts DROP COLUMN name_vector"]


def _fill_tokens():
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(contacts.c.id, contacts.c.name)
            .where(contacts.c.id > last_id)
            .order_by(contacts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            contacts.update().where(contacts.c.id == sa.bindparam("row_id")),
            [{"row_id": row.id, "name_tokens": search.contact_name_tokens(row.name)} for row in rows],
        )
        last_id = rows[-1].id


def upgrade():
    op.add_column("contacts", sa.Column("name_tokens", sa.Text(), server_default=sa.text("''"), nullable=False))
    _fill_tokens()
    if op.get_bind().dialect.name == "sqlite":
        # Filled first, then indexed at once: an update trigger would delete from the
        # index rows that were never in it, which FTS5 reads as a corrupt index.
        for statement in SQLITE_SEARCH:
            op.execute(statement)
        op.execute("INSERT INTO contact_name_search(contact_name_search) VALUES ('rebuild')")
    else:
        for statement in POSTGRES_SEARCH:
            op.execute(statement)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_SEARCH_DROP if sqlite else POSTGRES_SEARCH_DROP:
        op.execute(statement)
    op.drop_column("contacts", "name_tokens")

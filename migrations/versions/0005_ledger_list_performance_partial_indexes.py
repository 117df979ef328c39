"""ledger list performance: partial indexes, stored search vector

Revision ID: 4149178b135b
Revises: f9606fe665c3
Create Date: 2026-11-22 16:25:30.139423

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4149178b135b'
down_revision = 'f9606fe665c3'
branch_labels = None
depends_on = None


# The list's sort and filter indexes cover only rows outside the trash (every list
# and count asks for deleted_at IS NULL), so the planners pick them for ORDER BY …
# LIMIT instead of sorting the table; the trash gets an index of its own.
LISTED = {
    "ix_customers_updated": ["updated_at", "id"],
    "ix_customers_created": ["created_at", "id"],
    "ix_customers_sort_name": ["sort_name", "id"],
    "ix_customers_owner_stage": ["owner_id", "stage"],
    "ix_customers_team_stage": ["team_id", "stage"],
    "ix_customers_stage_updated": ["stage", "updated_at"],
    "ix_customers_grade": ["grade", "id"],
    "ix_customers_source": ["source", "id"],
    "ix_customers_region": ["province", "city"],
    "ix_customers_next_follow_up": ["next_follow_up_on", "id"],
    "ix_customers_last_follow_up": ["last_follow_up_at", "id"],
    "ix_customers_amount": ["expected_amount", "id"],
    "ix_customers_reclaim": ["reclaim_at", "id"],
}
OUTSIDE_TRASH = sa.text("deleted_at IS NULL")
IN_TRASH = sa.text("deleted_at IS NOT NULL")

# PostgreSQL: a stored tsvector, so matching does not parse search_tokens per row.
POSTGRES_VECTOR = [
    "ALTER TABLE customers ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_tokens)) STORED",
    "CREATE INDEX ix_customers_search_vector ON customers USING gin (search_vector)",
    "DROP INDEX ix_customers_search",
]
POSTGRES_VECTOR_DROP = [
    "CREATE INDEX ix_customers_search ON customers USING gin (to_tsvector('simple', search_tokens))",
    "DROP INDEX ix_customers_search_vector",
    "ALTER TABLE customers DROP COLUMN search_vector",
]


def _create(where):
    for name, columns in LISTED.items():
        op.create_index(name, "customers", columns, sqlite_where=where, postgresql_where=where)


def _drop():
    for name in LISTED:
        op.drop_index(name, table_name="customers")


def upgrade():
    _drop()
    _create(OUTSIDE_TRASH)
    op.drop_index("ix_customers_deleted", table_name="customers")
    op.create_index("ix_customers_trash", "customers", ["deleted_at"], sqlite_where=IN_TRASH, postgresql_where=IN_TRASH)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_VECTOR:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_VECTOR_DROP:
            op.execute(statement)
    op.drop_index("ix_customers_trash", table_name="customers")
    op.create_index("ix_customers_deleted", "customers", ["deleted_at"])
    _drop()
    _create(None)

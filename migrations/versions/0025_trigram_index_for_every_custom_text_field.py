"""custom fields: a trigram index for every customer text field on PostgreSQL

Revision ID: 5d2a7c9e1b48
Revises: 4c8d1e6a2f93
Create Date: 2026-12-06 19:00:00

The list's filters offer "contains" on every text field, but only searchable ones had a
trigram index, so a filter on another read the whole customers table (175 ms at
100,000 customers). Fields added from now on get one (salesdesk/fields/sql.py); this
gives it to the fields made before. SQLite has no such index: nothing to do there.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5d2a7c9e1b48"
down_revision = "4c8d1e6a2f93"
branch_labels = None
depends_on = None


def _text_fields(searchable=None):
    query = "SELECT key FROM custom_fields WHERE entity = 'customer' AND type = 'text'"
    if searchable is not None:
        query += f" AND searchable = {'true' if searchable else 'false'}"
    return op.get_bind().execute(sa.text(query)).scalars().all()


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for key in _text_fields():
        op.execute(
            f"CREATE INDEX IF NOT EXISTS tg_custom_customer_{key} ON customers"
            f" USING gin ((custom ->> '{key}') gin_trgm_ops)"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for key in _text_fields(searchable=False):
        op.execute(f"DROP INDEX IF EXISTS tg_custom_customer_{key}")

"""ledger: contacts carry a version, so a stale contact edit is refused

Two people editing one contact: the second save is refused instead of silently
undoing the first, as for customers.

Revision ID: 68a751d39409
Revises: 3f8a1c6d9e20
Create Date: 2026-12-04 18:05:57.022480

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '68a751d39409'
down_revision = '3f8a1c6d9e20'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: a batch rebuilds the table on SQLite and loses the
# triggers that keep contact_search current.


def upgrade():
    op.add_column("contacts", sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    op.drop_column("contacts", "version")

"""customers: drop reminded_for, which nothing reads or writes

Revision ID: 8f3b6d1a0c27
Revises: 5d2a7c9e1b48
Create Date: 2026-12-06 19:10:00

The follow-up reminders became one daily digest per owner, made once through its
notification's dedupe key (workbench/digest.py); the per-customer marker stayed behind.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "8f3b6d1a0c27"
down_revision = "5d2a7c9e1b48"
branch_labels = None
depends_on = None


def upgrade():
    # A plain DROP COLUMN (SQLite 3.35 and later): a batch rebuild of customers would
    # drop its full-text triggers.
    op.execute("ALTER TABLE customers DROP COLUMN reminded_for")


def downgrade():
    op.add_column("customers", sa.Column("reminded_for", sa.Date(), nullable=True))

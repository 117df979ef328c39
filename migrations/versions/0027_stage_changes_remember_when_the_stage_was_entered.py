"""stage_changes: entered_at, when the customer entered the stage it leaves

Revision ID: 2e9c4a7f6b13
Revises: 8f3b6d1a0c27
Create Date: 2026-12-06 19:20:00

The board's funnel gives the median days spent in each stage; it looked up each change's
previous change (a correlated max per row: 29 ms for a team's quarter, 52–85 ms for the
company). The write path now keeps that moment on the row; this fills the rows made
before, with the same definition (the latest earlier change of the customer).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "2e9c4a7f6b13"
down_revision = "8f3b6d1a0c27"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("stage_changes", sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE stage_changes SET entered_at = (SELECT max(earlier.at) FROM stage_changes AS earlier"
        " WHERE earlier.customer_id = stage_changes.customer_id AND earlier.at < stage_changes.at)"
        " WHERE from_stage IS NOT NULL"
    )


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35 and later), as the other columns dropped.
    op.execute("ALTER TABLE stage_changes DROP COLUMN entered_at")

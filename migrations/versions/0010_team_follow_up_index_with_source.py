"""ledger: the team's follow-up index also holds the source

"My team's overdue customers from referrals" is then counted from the index, and its
few matches found without reading the team's other overdue rows.

Revision ID: b8d41f2a6c07
Revises: 7a3e5b9d2c41
Create Date: 2026-11-22 22:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b8d41f2a6c07"
down_revision = "7a3e5b9d2c41"
branch_labels = None
depends_on = None

LISTED = sa.text("deleted_at IS NULL")


def _replace(columns):
    op.drop_index("ix_customers_team_follow_up", table_name="customers")
    op.create_index(
        "ix_customers_team_follow_up", "customers", columns, sqlite_where=LISTED, postgresql_where=LISTED
    )


def upgrade():
    _replace(["team_id", "next_follow_up_on", "owner_id", "source"])


def downgrade():
    _replace(["team_id", "next_follow_up_on", "owner_id"])

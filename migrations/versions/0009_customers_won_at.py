"""ledger: when a customer was won (成交日期), for the won-amount trend

Revision ID: 7a3e5b9d2c41
Revises: 5e1d0c0ffee1
Create Date: 2026-11-22 20:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7a3e5b9d2c41"
down_revision = "5e1d0c0ffee1"
branch_labels = None
depends_on = None

WON_AND_LISTED = sa.text("stage = 'won' AND deleted_at IS NULL")


def upgrade():
    # A plain ADD COLUMN: rebuilding customers (batch mode) would drop its FTS triggers.
    op.add_column("customers", sa.Column("won_at", sa.DateTime(timezone=True), nullable=True))
    # The last time each won customer entered the stage.
    op.execute(
        "UPDATE customers SET won_at = (SELECT max(at) FROM stage_changes"
        " WHERE stage_changes.customer_id = customers.id AND stage_changes.to_stage = 'won')"
        " WHERE stage = 'won'"
    )
    op.create_index(
        "ix_customers_won",
        "customers",
        ["won_at", "team_id", "expected_amount"],
        sqlite_where=WON_AND_LISTED,
        postgresql_where=WON_AND_LISTED,
    )


def downgrade():
    op.drop_index("ix_customers_won", table_name="customers")
    op.drop_column("customers", "won_at")

"""workbench: covering indexes for the pipeline and overdue follow-ups per rep

Revision ID: 5e1d0c0ffee1
Revises: c25dd32b1cd0
Create Date: 2026-11-22 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5e1d0c0ffee1"
down_revision = "c25dd32b1cd0"
branch_labels = None
depends_on = None

LISTED = sa.text("deleted_at IS NULL")


def _create(name, columns):
    op.create_index(name, "customers", columns, sqlite_where=LISTED, postgresql_where=LISTED)


def upgrade():
    op.drop_index("ix_customers_team_stage", table_name="customers")
    _create("ix_customers_team_stage", ["team_id", "stage", "owner_id", "expected_amount"])
    _create("ix_customers_stage_owner", ["stage", "owner_id", "expected_amount"])
    _create("ix_customers_owner_follow_up", ["owner_id", "next_follow_up_on"])


def downgrade():
    op.drop_index("ix_customers_owner_follow_up", table_name="customers")
    op.drop_index("ix_customers_stage_owner", table_name="customers")
    op.drop_index("ix_customers_team_stage", table_name="customers")
    _create("ix_customers_team_stage", ["team_id", "stage"])

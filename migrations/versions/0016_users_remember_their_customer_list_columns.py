"""users remember the customer list's columns they chose (列设置)

Revision ID: 5c2e7a9d41b3
Revises: 68a751d39409
Create Date: 2026-12-05 08:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5c2e7a9d41b3"
down_revision = "68a751d39409"
branch_labels = None
depends_on = None


def upgrade():
    # Empty: the default columns. A server default, so existing users get it too.
    op.add_column("users", sa.Column("list_columns", sa.String(500), nullable=False, server_default=sa.text("''")))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("list_columns")

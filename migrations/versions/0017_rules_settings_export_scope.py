"""rules: an admin setting decides who may export the customer list

Default: managers and administrators export what they see, reps only the customers
they own.

Revision ID: 5c2e8f7a9b10
Revises: 5c2e7a9d41b3
Create Date: 2026-12-05 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c2e8f7a9b10'
down_revision = '5c2e7a9d41b3'
branch_labels = None
depends_on = None


def upgrade():
    # A batch: SQLite adds a CHECK constraint only by rebuilding the table (rule_settings
    # has no triggers to lose).
    with op.batch_alter_table("rule_settings") as batch_op:
        batch_op.add_column(
            sa.Column("export_scope", sa.String(length=20), server_default="managers", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_rule_settings_export_scope_known"), "export_scope IN ('managers', 'everyone', 'admins')"
        )


def downgrade():
    with op.batch_alter_table("rule_settings") as batch_op:
        batch_op.drop_constraint(op.f("ck_rule_settings_export_scope_known"), type_="check")
        batch_op.drop_column("export_scope")

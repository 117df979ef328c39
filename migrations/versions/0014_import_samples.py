"""ledger: an import keeps the first rows of its file, read once in the background

Revision ID: 3f8a1c6d9e20
Revises: 3f6a9c1e2b75
Create Date: 2026-12-04 18:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3f8a1c6d9e20"
down_revision = "3f6a9c1e2b75"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a server default cannot be compared on PostgreSQL's json, and jobs
    # uploaded before this read their samples as none.
    op.add_column("import_jobs", sa.Column("samples", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("import_jobs", "samples")

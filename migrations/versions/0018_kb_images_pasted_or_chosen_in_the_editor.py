"""kb: images pasted or chosen in the article editor

The files lie in the instance folder (kb_images/); this table says who uploaded
which, and its type, so it is served as what it is.

Revision ID: 5c2e9b7d41a8
Revises: 5c2e8f7a9b10
Create Date: 2026-12-05 08:50:00

"""

import sqlalchemy as sa
from alembic import op


revision = "5c2e9b7d41a8"
down_revision = "5c2e8f7a9b10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kb_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stored_as", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_kb_images_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_images")),
        sa.UniqueConstraint("stored_as", name=op.f("uq_kb_images_stored_as")),
    )


def downgrade():
    op.drop_table("kb_images")

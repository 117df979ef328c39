"""custom fields: their definitions, and a JSON column of values on customers and contacts

Revision ID: 4c8d1e6a2f93
Revises: 9e4f0b7d2c61
Create Date: 2026-12-06 03:30:00

Each field's expression index is made when the field is added (salesdesk/fields/sql.py),
not here: fields come and go at run time.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = "4c8d1e6a2f93"
down_revision = "9e4f0b7d2c61"
branch_labels = None
depends_on = None

CUSTOM = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label_zh", sa.String(length=60), nullable=False),
        sa.Column("label_en", sa.String(length=60), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("help_text", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unique", sa.Boolean(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("searchable", sa.Boolean(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("entity IN ('customer', 'contact')", name=op.f("ck_custom_fields_entity_known")),
        sa.CheckConstraint(
            "type IN ('text', 'long_text', 'number', 'money', 'date', 'single_choice', "
            "'multiple_choice', 'yes_no', 'user')",
            name=op.f("ck_custom_fields_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_custom_fields_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        sa.UniqueConstraint("entity", "key", name=op.f("uq_custom_fields_entity_key")),
    )
    # Adding a nullable column without a default rewrites neither table.
    op.add_column("customers", sa.Column("custom", CUSTOM, nullable=True))
    op.add_column("contacts", sa.Column("custom", CUSTOM, nullable=True))


def downgrade():
    # The indexes the fields made at run time go first: they read the column.
    fields = op.get_bind().execute(sa.text("SELECT entity, key FROM custom_fields")).all()
    for entity, key in fields:
        for prefix in ("ix", "uq", "tg"):
            op.execute(f"DROP INDEX IF EXISTS {prefix}_custom_{entity}_{key}")
        op.execute(f"DROP INDEX IF EXISTS ix_custom_{entity}_values")
    # A plain DROP COLUMN (SQLite 3.35 and later): a batch rebuild would drop the
    # tables' full-text triggers.
    op.execute("ALTER TABLE contacts DROP COLUMN custom")
    op.execute("ALTER TABLE customers DROP COLUMN custom")
    op.drop_table("custom_fields")

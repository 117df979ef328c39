"""chat groups: connections to the groups' robots and the outbox of their messages

Revision ID: 9e4f0b7d2c61
Revises: 7b1e52c0a9d4
Create Date: 2026-12-06 00:40:00

"""

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = "9e4f0b7d2c61"
down_revision = "7b1e52c0a9d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "chat_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_announced", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "platform IN ('wecom', 'dingtalk', 'feishu', 'webhook')",
            name=op.f("ck_chat_connections_platform_known"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_chat_connections_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_connections")),
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed", sa.Boolean(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gave_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_answer", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["chat_connections.id"],
            name=op.f("fk_chat_messages_connection_id_chat_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint("connection_id", "dedupe_key", name="uq_chat_messages_connection_dedupe"),
    )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chat_messages_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL AND gave_up_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL AND gave_up_at IS NULL"),
        )
        batch_op.create_index(
            "ix_chat_messages_connection_attempt", ["connection_id", "attempted_at"], unique=False
        )
        batch_op.create_index("ix_chat_messages_created", ["created_at"], unique=False)


def downgrade():
    op.drop_table("chat_messages")
    op.drop_table("chat_connections")

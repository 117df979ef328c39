"""support: the desk's request types, requests, their timeline and attachments, the
working calendar's days, its settings, and which support users lead a queue

The seven request types PRODUCT.md names are added with their templates, company-wide,
routed round robin, with the default service levels; an admin edits them.

Revision ID: 4344ff77e263
Revises: 0c9d2e7f4a61
Create Date: 2026-12-05 13:02:23

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

DEFAULT_TYPES = (
    ("报价支持", "客户背景：\n需要报价的产品和数量：\n客户的预算和竞争对手：\n截止时间和报价形式："),
    ("合同审核", "客户背景：\n合同金额和付款方式：\n需要重点看的条款：\n截止时间："),
    ("技术方案", "客户背景：\n客户现在的系统和痛点：\n方案要解决的问题：\n截止时间和交付形式："),
    ("资料准备", "客户背景：\n需要哪些资料（案例、资质、演示材料）：\n用在什么场合：\n截止时间："),
    ("订单跟进", "客户背景：\n订单号和下单日期：\n需要跟进的事项：\n截止时间："),
    ("售后协调", "客户背景：\n问题描述（现象、影响范围）：\n客户的期望：\n截止时间："),
    ("其他", "客户背景：\n需求细节：\n截止时间："),
)


revision = "4344ff77e263"
down_revision = "0c9d2e7f4a61"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "support_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day_start", sa.Time(), nullable=False),
        sa.Column("day_end", sa.Time(), nullable=False),
        sa.Column("warn_minutes", sa.Integer(), nullable=False),
        sa.Column("auto_close_days", sa.Integer(), nullable=False),
        sa.Column("reopen_days", sa.Integer(), nullable=False),
        sa.Column("five_star_points", sa.Integer(), nullable=False),
        sa.Column("five_star_monthly_cap", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_settings")),
    )
    op.create_table(
        "work_calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_work_calendar_days_kind_known")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_work_calendar_days")),
    )
    op.create_table(
        "support_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("prompts", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("routing", sa.String(length=16), nullable=False),
        sa.Column("response_normal_minutes", sa.Integer(), nullable=False),
        sa.Column("resolve_normal_minutes", sa.Integer(), nullable=False),
        sa.Column("response_urgent_minutes", sa.Integer(), nullable=False),
        sa.Column("resolve_urgent_minutes", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("last_handler_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["last_handler_id"], ["users.id"], name=op.f("fk_support_types_last_handler_id_users")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_support_types_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_types")),
        sa.UniqueConstraint("name", name=op.f("uq_support_types_name")),
    )
    types = sa.table(
        "support_types",
        sa.column("name", sa.String),
        sa.column("prompts", sa.Text),
        sa.column("routing", sa.String),
        sa.column("response_normal_minutes", sa.Integer),
        sa.column("resolve_normal_minutes", sa.Integer),
        sa.column("response_urgent_minutes", sa.Integer),
        sa.column("resolve_urgent_minutes", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("retired", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        types,
        [
            {
                "name": name,
                "prompts": prompts,
                "routing": "round_robin",
                "response_normal_minutes": 8 * 60,
                "resolve_normal_minutes": 2 * 9 * 60,
                "response_urgent_minutes": 2 * 60,
                "resolve_urgent_minutes": 4 * 60,
                "position": position,
                "retired": False,
                "created_at": now,
            }
            for position, (name, prompts) in enumerate(DEFAULT_TYPES)
        ],
    )
    op.create_table(
        "support_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("elapsed_minutes", sa.Integer(), nullable=False),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("response_met", sa.Boolean(), nullable=True),
        sa.Column("resolution_met", sa.Boolean(), nullable=True),
        sa.Column("response_warned", sa.Boolean(), nullable=False),
        sa.Column("resolution_warned", sa.Boolean(), nullable=False),
        sa.Column("response_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_close_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), nullable=False),
        sa.Column("kb_article_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "priority IN ('normal', 'urgent')", name=op.f("ck_support_requests_priority_known")
        ),
        sa.CheckConstraint(
            "status IN ('new', 'in_progress', 'returned', 'resolved', 'closed', 'cancelled')",
            name=op.f("ck_support_requests_status_known"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_support_requests_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_support_requests_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"], ["users.id"], name=op.f("fk_support_requests_handler_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["kb_article_id"], ["kb_articles.id"], name=op.f("fk_support_requests_kb_article_id_kb_articles")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_support_requests_requester_id_users")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_support_requests_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["type_id"], ["support_types.id"], name=op.f("fk_support_requests_type_id_support_types")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_requests")),
    )
    with op.batch_alter_table("support_requests", schema=None) as batch_op:
        batch_op.create_index("ix_support_requests_created", ["created_at"], unique=False)
        batch_op.create_index("ix_support_requests_customer", ["customer_id", "created_at"], unique=False)
        batch_op.create_index("ix_support_requests_handler_status", ["handler_id", "status"], unique=False)
        batch_op.create_index(
            "ix_support_requests_requester_status", ["requester_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_support_requests_status_next_due", ["status", "next_due_at"], unique=False
        )
        batch_op.create_index("ix_support_requests_team_status", ["team_id", "status"], unique=False)

    op.create_table(
        "support_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_support_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_support_events_request_id_support_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_events")),
    )
    with op.batch_alter_table("support_events", schema=None) as batch_op:
        batch_op.create_index("ix_support_events_request", ["request_id", "id"], unique=False)

    op.create_table(
        "support_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["support_events.id"], name=op.f("fk_support_attachments_event_id_support_events")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_support_attachments_request_id_support_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_support_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_attachments")),
    )
    with op.batch_alter_table("support_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_support_attachments_request", ["request_id"], unique=False)
        batch_op.create_index("ix_support_attachments_sha256", ["sha256"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("support_lead", sa.Boolean(), server_default=sa.text("(false)"), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("support_lead")

    with op.batch_alter_table("support_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_support_attachments_sha256")
        batch_op.drop_index("ix_support_attachments_request")

    op.drop_table("support_attachments")
    with op.batch_alter_table("support_events", schema=None) as batch_op:
        batch_op.drop_index("ix_support_events_request")

    op.drop_table("support_events")
    with op.batch_alter_table("support_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_support_requests_team_status")
        batch_op.drop_index("ix_support_requests_status_next_due")
        batch_op.drop_index("ix_support_requests_requester_status")
        batch_op.drop_index("ix_support_requests_handler_status")
        batch_op.drop_index("ix_support_requests_customer")
        batch_op.drop_index("ix_support_requests_created")

    op.drop_table("support_requests")
    op.drop_table("support_types")
    op.drop_table("work_calendar_days")
    op.drop_table("support_settings")

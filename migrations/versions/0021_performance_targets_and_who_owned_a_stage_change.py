"""performance: targets per period and person or team, their history, the milestones
announced and the weekly reports sent; and who owned a customer at each stage change

A won deal is credited to whoever owned the customer when it was won, so each stage
change records its owner. Rows stored before get theirs from the ownership history
(the latest owner change at or before the stage change), which goes back to creation.

Revision ID: 4c3d9ddc8297
Revises: 4344ff77e263
Create Date: 2026-12-05 18:32:58.333302

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "4c3d9ddc8297"
down_revision = "4344ff77e263"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "target_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.BigInteger(), nullable=True),
        sa.Column("new_value", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_target_changes_actor_id_users")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_target_changes_team_id_teams")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_target_changes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_changes")),
    )
    with op.batch_alter_table("target_changes", schema=None) as batch_op:
        batch_op.create_index("ix_target_changes_period_at", ["period", "at"], unique=False)

    op.create_table(
        "target_milestones",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("percent", sa.SmallInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_target_milestones_user_id_users")),
        sa.PrimaryKeyConstraint("period", "user_id", "measure", "percent", name=op.f("pk_target_milestones")),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "measure IN ('won_amount', 'won_count', 'new_customers', 'follow_ups', 'visits')",
            name=op.f("ck_targets_target_measure_known"),
        ),
        sa.CheckConstraint("value >= 0", name=op.f("ck_targets_target_not_negative")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_targets_team_id_teams")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_targets_updated_by_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_targets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index("ix_targets_team_period", ["team_id", "period"], unique=False)
        batch_op.create_index(
            "ux_targets_person",
            ["period", "user_id", "measure"],
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ux_targets_team",
            ["period", "team_id", "measure"],
            unique=True,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )

    op.create_table(
        "performance_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reps_see_ranking", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_performance_settings_performance_single_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_performance_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_settings")),
    )
    op.create_table(
        "weekly_reports",
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["users.id"], name=op.f("fk_weekly_reports_manager_id_users")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_weekly_reports_team_id_teams")),
        sa.PrimaryKeyConstraint("manager_id", "week_start", name=op.f("pk_weekly_reports")),
    )
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_stage_changes_to_at"))
        batch_op.create_index(
            "ix_stage_changes_to_at", ["to_stage", "at", "owner_id", "customer_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stage_changes_owner_id_users"), "users", ["owner_id"], ["id"]
        )

    op.execute(
        """
        UPDATE stage_changes SET owner_id = (
            SELECT oc.to_user_id FROM ownership_changes oc
            WHERE oc.customer_id = stage_changes.customer_id AND oc.at <= stage_changes.at
            ORDER BY oc.at DESC, oc.id DESC LIMIT 1
        )
        """
    )


def downgrade():
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_stage_changes_owner_id_users"), type_="foreignkey")
        batch_op.drop_index("ix_stage_changes_to_at")
        batch_op.create_index(batch_op.f("ix_stage_changes_to_at"), ["to_stage", "at"], unique=False)
        batch_op.drop_column("owner_id")

    op.drop_table("weekly_reports")
    op.drop_table("performance_settings")
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_targets_team",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.drop_index(
            "ux_targets_person",
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_targets_team_period")

    op.drop_table("targets")
    op.drop_table("target_milestones")
    with op.batch_alter_table("target_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_target_changes_period_at")

    op.drop_table("target_changes")

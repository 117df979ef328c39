"""covering indexes for the performance board: support requests, owners, stage changes

Revision ID: 3b7e9d2a4c15
Revises: 6a1f3c8e5d20
Create Date: 2026-12-06 20:55:00

The performance board counts, per person and period, the requests filed (by
created_at), the ratings given (by closed_at) and, for support users, the requests
handled (by their three moments). Each read the table row by row: 70 ms a statement
for the company on SQLite, 17 for a team. From these indexes alone: 10–15 and 2–3.
Claims, reclaims and new customers are counted from (reason, at) with the people and
the customer added, the index they were read through. The funnel's stage changes of a
period are read with the stage left and when it was entered from the index that wins
and losses use (a team's quarter 28 -> 13 ms, the company's 81 -> 24 on SQLite), and
for a team from a second one led by the owner (the team's funnel 36 -> 21 ms on SQLite,
48 -> 25 on PostgreSQL; the company's unchanged).
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "3b7e9d2a4c15"
down_revision = "6a1f3c8e5d20"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_support_requests_requester_created": ["requester_id", "created_at"],
    "ix_support_requests_requester_closed": ["requester_id", "closed_at", "rating"],
    "ix_support_requests_handler_moments": [
        "handler_id",
        "accepted_at",
        "resolved_at",
        "closed_at",
        "response_met",
        "resolution_met",
        "rating",
    ],
}


OWNERSHIP_COLUMNS = ["reason", "at", "to_user_id", "from_user_id", "customer_id"]
STAGE_COLUMNS = ["to_stage", "at", "owner_id", "customer_id"]
OWNER_STAGE_COLUMNS = ["owner_id", "at", "to_stage", "customer_id", "from_stage", "entered_at"]


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "support_requests", columns)
    op.create_index("ix_ownership_changes_reason_at_people", "ownership_changes", OWNERSHIP_COLUMNS)
    op.drop_index("ix_ownership_changes_reason_at", table_name="ownership_changes")
    op.create_index(
        "ix_stage_changes_to_at_covering", "stage_changes", [*STAGE_COLUMNS, "from_stage", "entered_at"]
    )
    op.drop_index("ix_stage_changes_to_at", table_name="stage_changes")
    op.create_index("ix_stage_changes_owner_at_covering", "stage_changes", OWNER_STAGE_COLUMNS)


def downgrade():
    op.drop_index("ix_stage_changes_owner_at_covering", table_name="stage_changes")
    op.create_index("ix_stage_changes_to_at", "stage_changes", STAGE_COLUMNS)
    op.drop_index("ix_stage_changes_to_at_covering", table_name="stage_changes")
    op.create_index("ix_ownership_changes_reason_at", "ownership_changes", ["reason", "at"])
    op.drop_index("ix_ownership_changes_reason_at_people", table_name="ownership_changes")
    for name in INDEXES:
        op.drop_index(name, table_name="support_requests")

"""follow_up_counts: follow-ups counted ahead per author and local month

Revision ID: 8c4d2f6a1e37
Revises: 3b7e9d2a4c15
Create Date: 2026-12-07 01:00:00

The performance board counted every follow-up of the period and the one before: a
company's two quarters are ~320,000 rows, the largest statement of its board. Every
period is whole months in the zone of the person's team, so counts per person, local
month, channel and the month of the person's previous follow-up of the customer (kept
only as finely as periods can start) answer it from a few thousand rows. The write path keeps them
(performance/follow_up_counts.py); this counts the follow-ups made before, in the
zone of each author's team now, as that module does (a frozen copy of its rule).
"""

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "8c4d2f6a1e37"
down_revision = "3b7e9d2a4c15"
branch_labels = None
depends_on = None

DEFAULT_TIMEZONE = "Asia/Shanghai"
NEVER = date(1, 1, 1)
BATCH = 5000


def _month(instant, zone):
    if instant is None:
        return NEVER
    if instant.tzinfo is None:  # SQLite hands back naive UTC
        instant = instant.replace(tzinfo=ZoneInfo("UTC"))
    return instant.astimezone(ZoneInfo(zone)).date().replace(day=1)


def _since(previous, month):
    if previous >= month:
        return month
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    if previous >= quarter:
        return quarter
    year = month.replace(month=1)
    return year if previous >= year else NEVER


def upgrade():
    counts = op.create_table(
        "follow_up_counts",
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("previous_month", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("author_id", "zone", "month", "channel", "previous_month"),
        sqlite_with_rowid=False,
    )
    connection = op.get_bind()
    zones = dict(
        connection.execute(
            sa.text(
                "SELECT users.id, coalesce(teams.timezone, :default) FROM users"
                " LEFT JOIN teams ON teams.id = users.team_id"
            ),
            {"default": DEFAULT_TIMEZONE},
        ).all()
    )
    follow_ups = sa.table(
        "follow_ups",
        sa.column("author_id", sa.Integer()),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("channel", sa.String()),
        sa.column("previous_at", sa.DateTime(timezone=True)),
    )
    tally = Counter()
    rows = connection.execute(
        sa.select(
            follow_ups.c.author_id, follow_ups.c.occurred_at, follow_ups.c.channel, follow_ups.c.previous_at
        ).execution_options(yield_per=BATCH)
    )
    for author_id, occurred_at, channel, previous_at in rows:
        zone = zones[author_id]
        month = _month(occurred_at, zone)
        tally[(author_id, zone, month, channel, _since(_month(previous_at, zone), month))] += 1
    keys = ("author_id", "zone", "month", "channel", "previous_month")
    values = [dict(zip(keys, key), count=count) for key, count in tally.items()]
    for start in range(0, len(values), BATCH):
        op.bulk_insert(counts, values[start : start + BATCH])


def downgrade():
    op.drop_table("follow_up_counts")

"""The summaries behind the leaderboard, and exact sums over any period.

`point_buckets` holds, per user, the points counted in aligned blocks of UTC days — one
day (level 0), eight days (level 1) and sixty-four days (level 2) — with the last time
a still-valid entry in the block counted (`reached_at`); `point_totals` the same for all
time. Every entry adds to one block of each level and to the total, in the transaction
that inserts it, so the summaries are never behind.

A period in a team's time zone rarely starts at a UTC midnight. A period sum is the
whole UTC days inside it, as the fewest aligned blocks (a quarter is about twenty per
user), plus the partial days at either edge read from the entries themselves (a few
hours' worth): exact for every time zone, half-hour ones included.

A reversal counts when the entry it cancels counted, so it lands in the same blocks:
their points drop by the cancelled amount and their `reached_at` is looked up again
(the last entry that is neither a reversal nor reversed).

Concurrency: on SQLite writers are serialised (BEGIN IMMEDIATE). On PostgreSQL the
upserts are atomic increments and `reached_at` only moves forward (a CASE of the two
values); where it has to be recomputed (after a reversal) the row is locked by its
update first and read afterwards in a new statement, so a concurrent writer is either
seen or applies its own later value after us. Writers touch a user's rows in one order
(level 0, 1, 2, then the total) and several users in ascending id order, so they
cannot deadlock each other.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from ..database import MAX_ID, UTCDateTime
from .models import Kind, PointBucket, PointEntry, PointTotal

Reversal = aliased(PointEntry, name="reversal")

EPOCH = date(1970, 1, 1)
LEVELS = (0, 1, 2)
DAYS = {0: 1, 1: 8, 2: 64}


def day_number(moment):
    """The UTC day of an instant, counted from 1970-01-01."""
    return (moment.astimezone(UTC).date() - EPOCH).days


def midnight(number):
    """The UTC instant at which day `number` begins."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=number)


def block_start(number, level):
    return number - number % DAYS[level]


def still_valid():
    """An entry that counts for "reached at": not a reversal and not reversed."""
    return and_(
        PointEntry.kind != Kind.REVERSAL,
        ~exists().where(Reversal.reversal_of_id == PointEntry.id),
    )


# ---- writing ---------------------------------------------------------------------

_UPSERTS = {}


def _later(column, value):
    """The later of a nullable column and a value (SQLite's max() returns NULL on NULL)."""
    return case((column.is_(None), value), (value > column, value), else_=column)


def _upsert_statement(dialect, model):
    """INSERT … ON CONFLICT DO UPDATE adding points; built once per dialect and table."""
    key = (dialect, model)
    if key not in _UPSERTS:
        module = postgresql if dialect == "postgresql" else sqlite
        keys = [column.name for column in model.__table__.primary_key]
        statement = module.insert(model).values(
            {name: bindparam(name) for name in [*keys, "points", "reached_at"]}
        )
        excluded = statement.excluded
        _UPSERTS[key] = statement.on_conflict_do_update(
            index_elements=keys,
            set_={
                "points": model.points + excluded.points,
                "reached_at": _later(model.reached_at, excluded.reached_at),
            },
        )
    return _UPSERTS[key]


def _upsert(session, model, keys, points, reached_at):
    statement = _upsert_statement(session.get_bind().dialect.name, model)
    session.execute(statement, {**keys, "points": points, "reached_at": reached_at})


def record(session, entry):
    """Add a flushed entry to the summaries, in the caller's transaction."""
    user_id = entry.recipient_id
    day = day_number(entry.counted_at)
    if entry.points > 0:
        for level in LEVELS:
            keys = {"user_id": user_id, "level": level, "start": block_start(day, level)}
            _upsert(session, PointBucket, keys, entry.points, entry.counted_at)
        _upsert(session, PointTotal, {"user_id": user_id}, entry.points, entry.counted_at)
        return
    # A reversal: the cancelled entry's blocks lose its points, and their last valid
    # entry is looked up again, the day first, then the blocks containing it.
    for level in LEVELS:
        start = block_start(day, level)
        bucket = (PointBucket.user_id == user_id, PointBucket.level == level, PointBucket.start == start)
        session.execute(update(PointBucket).where(*bucket).values(points=PointBucket.points + entry.points))
        if level == 0:
            last = session.scalar(
                select(func.max(PointEntry.counted_at)).where(
                    PointEntry.recipient_id == user_id,
                    PointEntry.counted_at >= midnight(day),
                    PointEntry.counted_at < midnight(day + 1),
                    still_valid(),
                )
            )
        else:
            last = session.scalar(
                select(func.max(PointBucket.reached_at)).where(
                    PointBucket.user_id == user_id,
                    PointBucket.level == 0,
                    PointBucket.start >= start,
                    PointBucket.start < start + DAYS[level],
                )
            )
        session.execute(update(PointBucket).where(*bucket).values(reached_at=last))
    total = PointTotal.user_id == user_id
    session.execute(update(PointTotal).where(total).values(points=PointTotal.points + entry.points))
    last = session.scalar(
        select(func.max(PointBucket.reached_at)).where(PointBucket.user_id == user_id, PointBucket.level == 2)
    )
    session.execute(update(PointTotal).where(total).values(reached_at=last))


# ---- reading ---------------------------------------------------------------------


def blocks(first, end):
    """The fewest aligned blocks covering days [first, end): {level: [[from, to), …]}
    with consecutive blocks of a level merged into one range of starts."""
    runs = {level: [] for level in LEVELS}
    day = first
    while day < end:
        level = next(lv for lv in reversed(LEVELS) if day % DAYS[lv] == 0 and day + DAYS[lv] <= end)
        size = DAYS[level]
        if runs[level] and runs[level][-1][1] == day:
            runs[level][-1][1] = day + size
        else:
            runs[level].append([day, day + size])
        day += size
    return runs


def _merge(into, rows):
    for user_id, points, reached_at in rows:
        current = into.get(user_id)
        if current is None:
            into[user_id] = [points or 0, reached_at]
        else:
            current[0] += points or 0
            if reached_at is not None and (current[1] is None or reached_at > current[1]):
                current[1] = reached_at


def _by_user(column):
    """GROUP BY key `column + 0`: the same value, but SQLite's planner can no longer
    group by walking an index that starts with the user (a skip-scan of 200 seeks,
    measured 5-20x slower at a million entries than a range scan and a sort)."""
    return (column + literal_column("0")).label("user_id")


# The reading statements are built once per shape with bind parameters and run on the
# session's connection (Core, no ORM layer): building the expression trees afresh was
# a third of a leaderboard's time.
_READS = {}


def _read(session, key, build, params):
    statement = _READS.get(key)
    if statement is None:
        statement = _READS[key] = build()
    return session.connection().execute(statement, params).all()


def _from_entries(session, start, end, with_reached=True):
    def build():
        reached = type_coerce(func.max(case((still_valid(), PointEntry.counted_at))), UTCDateTime)
        user_id = _by_user(PointEntry.recipient_id)
        query = (
            select(user_id, func.sum(PointEntry.points), reached if with_reached else null())
            .where(PointEntry.counted_at >= bindparam("start"))
            .group_by(user_id)
        )
        return query if end is None else query.where(PointEntry.counted_at < bindparam("end"))

    key = ("entries", with_reached, end is None)
    return _read(session, key, build, {"start": start, "end": end})


def _from_buckets(session, ranges, with_reached=True):
    """Sum buckets given as (level, from, to) ranges of starts. One range scan per
    range, glued with UNION ALL: index-only on both databases (an OR of ranges turns
    into row lookups by id on SQLite and a bitmap heap scan on PostgreSQL)."""
    if not ranges:
        return []

    def build():
        parts = union_all(
            *(
                select(
                    _by_user(PointBucket.user_id),
                    PointBucket.points,
                    PointBucket.reached_at if with_reached else null().label("reached_at"),
                ).where(
                    PointBucket.level == bindparam(f"level{n}"),
                    PointBucket.start >= bindparam(f"low{n}"),
                    PointBucket.start < bindparam(f"high{n}"),
                )
                for n in range(len(ranges))
            )
        ).subquery()
        reached = func.max(parts.c.reached_at) if with_reached else null()
        return select(parts.c.user_id, func.sum(parts.c.points), reached).group_by(parts.c.user_id)

    params = {}
    for n, (level, low, high) in enumerate(ranges):
        params.update({f"level{n}": level, f"low{n}": low, f"high{n}": high})
    return _read(session, ("buckets", with_reached, len(ranges)), build, params)


def _window(session, start, end, with_reached=True):
    """[start, end), start given; end may be None (open)."""
    first_full = day_number(start)
    if midnight(first_full) < start:
        first_full += 1
    end_full = day_number(end) if end is not None else None
    totals = {}
    if end_full is not None and first_full >= end_full:
        _merge(totals, _from_entries(session, start, end, with_reached))
        return totals
    if end_full is None:
        # Open-ended ("since Monday"): days from the first one on.
        ranges = [(0, first_full, MAX_ID)]
    else:
        ranges = [
            (level, low, high) for level, runs in blocks(first_full, end_full).items() for low, high in runs
        ]
    _merge(totals, _from_buckets(session, ranges, with_reached))
    if start < midnight(first_full):
        _merge(totals, _from_entries(session, start, midnight(first_full), with_reached))
    if end is not None and midnight(end_full) < end:
        _merge(totals, _from_entries(session, midnight(end_full), end, with_reached))
    return totals


def sums(session, start, end, with_reached=True):
    """{user_id: [points, reached_at]} for entries counted in [start, end).

    `reached_at` is the last time a still-valid entry counted: who reached a total
    first reached it then, since every valid entry adds points. Without it (for the
    previous period, where only ranks matter) it is None and the query is cheaper."""
    if start is None:
        totals = {
            user_id: [points, reached_at]
            for user_id, points, reached_at in session.connection().execute(
                select(PointTotal.user_id, PointTotal.points, PointTotal.reached_at)
            )
        }
        if end is None:
            return totals
        # All time up to `end`: everything, less what came after (points only).
        for user_id, (points, _reached) in _window(session, end, None, with_reached=False).items():
            slot = totals.setdefault(user_id, [0, None])
            slot[0] -= points
            slot[1] = None
        return totals
    return _window(session, start, end, with_reached)


# ---- checking and rebuilding -----------------------------------------------------


def expected_buckets(session):
    """The buckets recomputed from the entries alone (slow: for checks)."""
    buckets = defaultdict(lambda: [0, None])
    for user_id, counted_at, points, is_valid in session.execute(
        select(
            PointEntry.recipient_id,
            PointEntry.counted_at,
            PointEntry.points,
            case((still_valid(), 1), else_=0),
        )
    ):
        day = day_number(counted_at)
        for level in LEVELS:
            slot = buckets[(user_id, level, block_start(day, level))]
            slot[0] += points
            if is_valid and (slot[1] is None or counted_at > slot[1]):
                slot[1] = counted_at
    return dict(buckets)


def mismatches(session):
    """Differences between the summaries and the entries: empty when exact."""
    expected = expected_buckets(session)
    actual = {
        (row.user_id, row.level, row.start): [row.points, row.reached_at]
        for row in session.execute(
            select(
                PointBucket.user_id,
                PointBucket.level,
                PointBucket.start,
                PointBucket.points,
                PointBucket.reached_at,
            )
        )
    }
    problems = []
    for key in expected.keys() | actual.keys():
        if expected.get(key, [0, None]) != actual.get(key, [0, None]):
            problems.append(("bucket", key, expected.get(key), actual.get(key)))
    totals = defaultdict(lambda: [0, None])
    for (user_id, level, _start), (points, reached_at) in expected.items():
        if level == 0:
            slot = totals[user_id]
            slot[0] += points
            if reached_at is not None and (slot[1] is None or reached_at > slot[1]):
                slot[1] = reached_at
    actual_totals = {
        row.user_id: [row.points, row.reached_at]
        for row in session.execute(select(PointTotal.user_id, PointTotal.points, PointTotal.reached_at))
    }
    for user_id in totals.keys() | actual_totals.keys():
        if totals.get(user_id, [0, None]) != actual_totals.get(user_id, [0, None]):
            problems.append(("total", user_id, totals.get(user_id), actual_totals.get(user_id)))
    return problems


def rebuild(session):
    """Recompute the summaries from the entries in set-based SQL (bulk loads, repair)."""
    session.execute(delete(PointBucket))
    session.execute(delete(PointTotal))
    # The UTC day number of counted_at, exactly (SQLite keeps naive UTC text).
    if session.get_bind().dialect.name == "sqlite":
        day = literal_column(
            "CAST(julianday(substr(point_entries.counted_at, 1, 10)) - 2440587.5 AS INTEGER)"
        )
    else:
        day = literal_column("((point_entries.counted_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01')")
    reached = func.max(case((still_valid(), PointEntry.counted_at)))
    session.execute(
        insert(PointBucket).from_select(
            ["user_id", "level", "start", "points", "reached_at"],
            select(PointEntry.recipient_id, 0, day, func.sum(PointEntry.points), reached).group_by(
                PointEntry.recipient_id, day
            ),
        )
    )
    for level in LEVELS[1:]:
        start = PointBucket.start - PointBucket.start % DAYS[level]
        session.execute(
            insert(PointBucket).from_select(
                ["user_id", "level", "start", "points", "reached_at"],
                select(
                    PointBucket.user_id,
                    level,
                    start,
                    func.sum(PointBucket.points),
                    func.max(PointBucket.reached_at),
                )
                .where(PointBucket.level == 0)
                .group_by(PointBucket.user_id, start),
            )
        )
    session.execute(
        insert(PointTotal).from_select(
            ["user_id", "points", "reached_at"],
            select(PointBucket.user_id, func.sum(PointBucket.points), func.max(PointBucket.reached_at))
            .where(PointBucket.level == 2)
            .group_by(PointBucket.user_id),
        )
    )

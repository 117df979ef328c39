"""The summaries behind the leaderboard, and exact sums over any period.

`point_days` holds, per user and UTC day, the points counted that day and the last time
a still-valid entry counted (`reached_at`); `point_totals` the same for all time. Both
change in the transaction that adds an entry, so they are never behind.

A period in a team's time zone rarely starts at a UTC midnight, so a period sum is the
whole UTC days inside it from `point_days` plus the partial days at either edge read
from the entries themselves (a few hours' worth): exact for every time zone, including
half-hour ones.

Concurrency: on SQLite writers are serialised (BEGIN IMMEDIATE). On PostgreSQL the
upserts are atomic increments; where a `reached_at` has to be recomputed (after a
reversal) the summary row is locked by its update first and read afterwards in a new
statement, so a concurrent writer either is seen or applies its own GREATEST later.
Writers touch summary rows in (user, day) then (user, total) order and, within one
transaction, users in ascending id order, so they cannot deadlock each other.
"""

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import and_, bindparam, case, delete, exists, func, insert, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from ..database import UTCDateTime
from .models import Kind, PointDay, PointEntry, PointTotal

Reversal = aliased(PointEntry, name="reversal")


def utc_day(moment):
    return moment.astimezone(UTC).date()


def utc_midnight(day):
    return datetime.combine(day, time(0), tzinfo=UTC)


def still_valid():
    """An entry that counts for "reached at": not a reversal and not reversed."""
    return and_(
        PointEntry.kind != Kind.REVERSAL,
        ~exists().where(Reversal.reversal_of_id == PointEntry.id),
    )


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
    day = utc_day(entry.counted_at)
    if entry.points > 0:
        _upsert(
            session, PointDay, {"user_id": entry.recipient_id, "day": day}, entry.points, entry.counted_at
        )
        _upsert(session, PointTotal, {"user_id": entry.recipient_id}, entry.points, entry.counted_at)
        return
    # A reversal: the cancelled entry's day loses its points, and the last valid entry
    # of that day (then of all time) is looked up again.
    user_id = entry.recipient_id
    session.execute(
        update(PointDay)
        .where(PointDay.user_id == user_id, PointDay.day == day)
        .values(points=PointDay.points + entry.points)
    )
    last_of_day = session.scalar(
        select(func.max(PointEntry.counted_at)).where(
            PointEntry.recipient_id == user_id,
            PointEntry.counted_at >= utc_midnight(day),
            PointEntry.counted_at < utc_midnight(day + timedelta(days=1)),
            still_valid(),
        )
    )
    session.execute(
        update(PointDay)
        .where(PointDay.user_id == user_id, PointDay.day == day)
        .values(reached_at=last_of_day)
    )
    session.execute(
        update(PointTotal)
        .where(PointTotal.user_id == user_id)
        .values(points=PointTotal.points + entry.points)
    )
    last_ever = session.scalar(select(func.max(PointDay.reached_at)).where(PointDay.user_id == user_id))
    session.execute(update(PointTotal).where(PointTotal.user_id == user_id).values(reached_at=last_ever))


# ---- reading ---------------------------------------------------------------------


def _merge(into, rows):
    for user_id, points, reached_at in rows:
        current = into.get(user_id)
        if current is None:
            into[user_id] = [points or 0, reached_at]
        else:
            current[0] += points or 0
            if reached_at is not None and (current[1] is None or reached_at > current[1]):
                current[1] = reached_at


def _from_entries(session, start, end):
    reached = type_coerce(func.max(case((still_valid(), PointEntry.counted_at))), UTCDateTime)
    query = select(PointEntry.recipient_id, func.sum(PointEntry.points), reached).group_by(
        PointEntry.recipient_id
    )
    query = query.where(PointEntry.counted_at >= start)
    if end is not None:
        query = query.where(PointEntry.counted_at < end)
    return session.execute(query).all()


def _from_days(session, first_day, end_day):
    query = (
        select(PointDay.user_id, func.sum(PointDay.points), func.max(PointDay.reached_at))
        .where(PointDay.day >= first_day)
        .group_by(PointDay.user_id)
    )
    if end_day is not None:
        query = query.where(PointDay.day < end_day)
    return session.execute(query).all()


def _window(session, start, end):
    """[start, end), start given; end may be None (open)."""
    first_full = utc_day(start)
    if utc_midnight(first_full) < start:
        first_full += timedelta(days=1)
    end_full = utc_day(end) if end is not None else None
    totals = {}
    if end_full is not None and first_full >= end_full:
        _merge(totals, _from_entries(session, start, end))
        return totals
    _merge(totals, _from_days(session, first_full, end_full))
    if start < utc_midnight(first_full):
        _merge(totals, _from_entries(session, start, utc_midnight(first_full)))
    if end is not None and utc_midnight(end_full) < end:
        _merge(totals, _from_entries(session, utc_midnight(end_full), end))
    return totals


def sums(session, start, end):
    """{user_id: [points, reached_at]} for entries counted in [start, end).

    `reached_at` is the last time a still-valid entry counted: who reached a total
    first reached it then, since every valid entry adds points."""
    if start is None:
        totals = {
            user_id: [points, reached_at]
            for user_id, points, reached_at in session.execute(
                select(PointTotal.user_id, PointTotal.points, PointTotal.reached_at)
            )
        }
        if end is None:
            return totals
        # All time up to `end`: everything, less what came after (points only).
        for user_id, (points, _reached) in _window(session, end, None).items():
            slot = totals.setdefault(user_id, [0, None])
            slot[0] -= points
            slot[1] = None
        return totals
    return _window(session, start, end)


# ---- checking and rebuilding -----------------------------------------------------


def expected_days(session):
    """The day summaries recomputed from the entries alone (slow: for checks)."""
    days = defaultdict(lambda: [0, None])
    valid = still_valid()
    for user_id, counted_at, points, is_valid in session.execute(
        select(PointEntry.recipient_id, PointEntry.counted_at, PointEntry.points, case((valid, 1), else_=0))
    ):
        slot = days[(user_id, utc_day(counted_at))]
        slot[0] += points
        if is_valid and (slot[1] is None or counted_at > slot[1]):
            slot[1] = counted_at
    return dict(days)


def mismatches(session):
    """Differences between the summaries and the entries: empty when exact."""
    expected = expected_days(session)
    actual = {
        (row.user_id, row.day): [row.points, row.reached_at]
        for row in session.execute(
            select(PointDay.user_id, PointDay.day, PointDay.points, PointDay.reached_at)
        )
    }
    problems = []
    for key in expected.keys() | actual.keys():
        if expected.get(key, [0, None]) != actual.get(key, [0, None]):
            problems.append(("day", key, expected.get(key), actual.get(key)))
    totals = defaultdict(lambda: [0, None])
    for (user_id, _day), (points, reached_at) in expected.items():
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
    """Recompute both summaries from the entries in set-based SQL (bulk loads, repair)."""
    session.execute(delete(PointDay))
    session.execute(delete(PointTotal))
    dialect = session.get_bind().dialect.name
    day = (
        func.date(PointEntry.counted_at)
        if dialect == "sqlite"
        else func.date(func.timezone("UTC", PointEntry.counted_at))
    )
    reached = func.max(case((still_valid(), PointEntry.counted_at)))
    session.execute(
        insert(PointDay).from_select(
            ["user_id", "day", "points", "reached_at"],
            select(PointEntry.recipient_id, day, func.sum(PointEntry.points), reached).group_by(
                PointEntry.recipient_id, day
            ),
        )
    )
    session.execute(
        insert(PointTotal).from_select(
            ["user_id", "points", "reached_at"],
            select(PointDay.user_id, func.sum(PointDay.points), func.max(PointDay.reached_at)).group_by(
                PointDay.user_id
            ),
        )
    )

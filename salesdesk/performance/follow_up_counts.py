"""Follow-ups counted ahead (models.FollowUpCount): what the board, the targets, the
homes and the milestones read instead of counting every follow-up of a period (a
company's quarter and the one before it are 300,000 follow-ups).

A follow-up counts in the local month of its moment in the zone of its author's team
(the zone that person's periods are cut in), on its channel, with the local month of
the author's previous follow-up of the same customer (NEVER: the first one). The
customers a person touched in a period are then the follow-ups there whose previous
month is before the period's first month: the first follow-up of each customer there
(the previous month is kept only as finely as periods can start: since()).

The counts follow the ledger in the same transaction: each follow-up logged adds one,
and a backdated one moves the author's next follow-up of the customer to its new
previous month (signals.follow_up_logged). A person whose zone changes (their team's
zone edited, or a move to a team elsewhere) is counted again from their follow-ups
(signals.people_rezoned): their months are cut at other midnights now. Reads ask for
the person's zone of now, so counts of another zone are never mixed in."""

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from .. import signals
from ..auth.models import DEFAULT_TIMEZONE, Team, User
from ..extensions import db
from ..ledger.models import FollowUp
from .models import FollowUpCount

NEVER = date(1, 1, 1)  # the previous month of a first follow-up: before every period
BATCH = 5000
_KEY = ("author_id", "zone", "month", "channel", "previous_month")


def month_of(instant, zone):
    """The first day of the instant's month in the zone (NEVER for no instant)."""
    if instant is None:
        return NEVER
    return instant.astimezone(ZoneInfo(zone)).date().replace(day=1)


def since(previous, month):
    """The previous month kept for a follow-up of `month`: only whether it falls before a
    period's start counts, and a period holding `month` starts at it, at its quarter's
    first month or at its year's. So an earlier month of the quarter is kept as the
    quarter's first, one of an earlier quarter as the year's first, and one of an
    earlier year as NEVER: fewer rows, the same answers."""
    if previous >= month:
        return month
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    if previous >= quarter:
        return quarter
    year = month.replace(month=1)
    return year if previous >= year else NEVER


def _bucket(author_id, zone, occurred_at, channel, previous_at):
    month = month_of(occurred_at, zone)
    return (author_id, zone, month, channel, since(month_of(previous_at, zone), month))


def _zone_now(author_id):
    """The author's zone, read under share locks on their row and their team's (on
    PostgreSQL; SQLite has one writer at a time). A team's zone edited, or the author
    moved to another team, at the same moment waits for this follow-up's counts, or
    makes this wait and read the new zone (_count_again). The person's lock is the
    weakest (KEY SHARE): claims and points lock that row too, and a follow-up has locked
    its customer before."""
    team_id = db.session.scalar(
        select(User.team_id).where(User.id == author_id).with_for_update(read=True, key_share=True)
    )
    if team_id is None:
        return DEFAULT_TIMEZONE
    return db.session.scalar(select(Team.timezone).where(Team.id == team_id).with_for_update(read=True))


@signals.follow_up_logged.connect
def _count_logged(follow_up, author, relinked):
    zone = _zone_now(author.id)
    changes = Counter()
    changes[_bucket(author.id, zone, follow_up.occurred_at, follow_up.channel, follow_up.previous_at)] += 1
    if relinked is not None:
        following, previous_before = relinked
        for previous_at, delta in ((previous_before, -1), (following.previous_at, 1)):
            changes[_bucket(author.id, zone, following.occurred_at, following.channel, previous_at)] += delta
    _add({key: delta for key, delta in changes.items() if delta})
    if relinked is not None:  # the successor's old bucket may have been its last follow-up
        db.session.execute(
            delete(FollowUpCount).where(FollowUpCount.author_id == author.id, FollowUpCount.count == 0)
        )


def _add(changes):
    """Add each delta to its count, making the row when it is the first (one statement:
    two authors' follow-ups at the same time add to their own rows, and one author's
    two at once wait for each other on the row)."""
    if not changes:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(FollowUpCount).values(
        [dict(zip(_KEY, key, strict=True), count=delta) for key, delta in changes.items()]
    )
    db.session.execute(
        insert.on_conflict_do_update(
            index_elements=list(_KEY), set_={"count": FollowUpCount.count + insert.excluded["count"]}
        )
    )


@signals.people_rezoned.connect
def _count_again(sender, user_ids):
    if isinstance(sender, User):
        # A person moved to another team: their follow-ups being logged read the old
        # team under a KEY SHARE lock (_zone_now). Wait for those to commit, and make
        # later ones wait for this move, then count everything again. (A team's zone
        # edited needs no more: its row's update is what they wait for.)
        db.session.execute(select(User.id).where(User.id.in_(user_ids)).with_for_update())
    recount(user_ids)


def recount(user_ids):
    """Count the people's follow-ups again, in their team's zone of now (in the caller's
    transaction)."""
    if not user_ids:
        return
    people = db.session.scalars(select(User).options(joinedload(User.team)).where(User.id.in_(user_ids)))
    zones = {user.id: user.timezone for user in people}
    db.session.execute(delete(FollowUpCount).where(FollowUpCount.author_id.in_(user_ids)))
    counts = Counter(
        _bucket(author_id, zones[author_id], occurred_at, channel, previous_at)
        for author_id, occurred_at, channel, previous_at in db.session.execute(
            select(FollowUp.author_id, FollowUp.occurred_at, FollowUp.channel, FollowUp.previous_at)
            .where(FollowUp.author_id.in_(user_ids))
            .execution_options(yield_per=BATCH)
        )
    )
    rows = [dict(zip(_KEY, key, strict=True), count=count) for key, count in counts.items()]
    for start in range(0, len(rows), BATCH):
        db.session.execute(FollowUpCount.__table__.insert(), rows[start : start + BATCH])


def by_author(user_ids, zone, period):
    """{author_id: ({channel: follow-ups}, customers touched)} of the people (all of one
    zone) in the period, for those who logged any."""
    query = (
        select(
            FollowUpCount.author_id,
            FollowUpCount.channel,
            func.sum(FollowUpCount.count),
            func.sum(FollowUpCount.count).filter(FollowUpCount.previous_month < period.start),
        )
        .where(
            FollowUpCount.author_id.in_(user_ids),
            FollowUpCount.zone == zone,
            FollowUpCount.month >= period.start,
            FollowUpCount.month < period.end,
        )
        .group_by(FollowUpCount.author_id, FollowUpCount.channel)
    )
    result = {}
    for author_id, channel, logged, touched in db.session.execute(query):
        channels, touched_so_far = result.get(author_id, ({}, 0))
        channels[channel] = logged
        result[author_id] = (channels, touched_so_far + (touched or 0))
    return result

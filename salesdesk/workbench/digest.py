"""The morning digest (每日跟进提醒): one message a day to each person with follow-ups due,
"今日待跟进 5 个，逾期 4 个", linking to them in the customer list. The follow-ups
themselves are tasks on the workbench, not notifications: one notification per due
customer per day buried every other message under copies of the workbench."""

from datetime import time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, exists, func, literal, select

from .. import clock
from ..auth.models import DEFAULT_TIMEZONE, Team, User
from ..database import write_transaction
from ..extensions import db
from ..jobs import periodic
from ..ledger.models import Customer
from ..notifications import Notification, link, notify_once, register_kinds, with_dates
from .services import follow_up_due

KIND = "follow_up.digest"
# Sent from 08:00 in the person's time zone, and until noon if the server was idle or
# down at eight; later in the day the workbench shows the tasks and a digest is noise.
DIGEST_FROM = time(8)
DIGEST_UNTIL = time(12)


def _digest_message(params):
    if params["due"] and params["overdue"]:
        return _("Follow-ups today: %(due)s, overdue: %(overdue)s", **params)
    if params["due"]:
        return _("Follow-ups today: %(due)s", **params)
    return _("Follow-ups overdue: %(overdue)s", **params)


_overdue_message = with_dates(_l("The follow-up of %(customer)s is overdue (due %(due)s)"), "due")
register_kinds(
    {
        KIND: _digest_message,
        # One per customer, before the digest: kept so that old ones still read well.
        "follow_up.due": lambda p: (
            _("Follow up %(customer)s today", customer=p["customer"])
            if p["due"] == p["today"]
            else _overdue_message(p)
        ),
    }
)


def dedupe_key(day, user_id):
    """One digest per person and day: the notifications' unique key makes it so."""
    return f"follow-up-digest:{day.isoformat()}:{user_id}"


def _dedupe_key_of(day, user_id_column):
    # The same key, spelt in SQL, to find who has today's digest already.
    return literal(dedupe_key(day, "")) + cast(user_id_column, String)


@periodic("follow-up-digest")
def send_follow_up_digests():
    """Each person's digest for today, where it is morning. Idempotent: run twice, or
    in two processes at once, it still sends one (the insert skips a used key)."""
    now = clock.now()
    zones = dict(db.session.execute(select(Team.id, Team.timezone)).all())
    sent = 0
    for team_id in [*zones, None]:
        local = now.astimezone(ZoneInfo(zones.get(team_id) or DEFAULT_TIMEZONE))
        if DIGEST_FROM <= local.time() < DIGEST_UNTIL:
            sent += _send_for_team(team_id, local.date())
    return sent


def _send_for_team(team_id, today):
    in_team = User.team_id == team_id if team_id is not None else User.team_id.is_(None)
    waiting = db.session.scalars(
        select(User.id).where(
            in_team,
            User.active.is_(True),
            ~exists().where(Notification.dedupe_key == _dedupe_key_of(today, User.id)),
        )
    ).all()
    if not waiting:
        return 0
    counts = db.session.execute(
        select(
            Customer.owner_id,
            func.count(case((Customer.next_follow_up_on == today, 1))),
            func.count(case((Customer.next_follow_up_on < today, 1))),
        )
        .where(Customer.owner_id.in_(waiting), follow_up_due(today))
        .group_by(Customer.owner_id)
    ).all()
    if not counts:
        return 0
    target = link(
        "ledger.index", owner="me", follow_up="due_or_overdue", sort="next_follow_up", direction="asc"
    )
    with write_transaction() as session:
        return len(
            notify_once(
                session,
                KIND,
                [
                    {
                        "user_id": owner_id,
                        "link": target,
                        "dedupe_key": dedupe_key(today, owner_id),
                        "params": {"due": due, "overdue": overdue, "day": today.isoformat()},
                    }
                    for owner_id, due, overdue in counts
                ],
            )
        )

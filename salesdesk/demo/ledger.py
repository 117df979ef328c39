"""The demo ledger, loaded by seed(): about 300 customers of the three demo teams, with
contacts, six months of follow-ups, stage changes, ownership changes and collaborators.

Everything is written through the ledger's services with the clock set to the moment it
happened, so duplicate keys, search tokens, histories and audit entries are what the app
itself would have written. `seed()` does nothing once demo users have created customers.
"""

from zoneinfo import ZoneInfo

from sqlalchemy import select

from .. import clock, settings
from ..auth.models import User
from ..database import write_transaction
from ..extensions import db
from ..ledger.collaborators import add_collaborator, answer_collaboration, request_collaboration
from ..ledger.customers import change_stage, create_customer
from ..ledger.duplicates import DuplicateFound
from ..ledger.followups import log_follow_up
from ..ledger.models import Customer
from ..ledger.ownership import record_owner_change
from . import scenario
from .company import DOMAIN, email
from .stories import Staff
from .words import TEAMS

TIDY_TABLES = ("customers", "contacts", "contact_phones", "follow_ups", "stage_changes", "ownership_changes")


def load_staff():
    """The demo teams as they are in the database, or None when they are not all there."""
    emails = {}
    for staff in TEAMS.values():
        for login, _name in [staff["manager"], staff["support"], *staff["reps"]]:
            emails[email(login)] = None
    for user in db.session.scalars(select(User).where(User.email.in_(list(emails)))):
        emails[user.email] = user
    if any(user is None or not user.active for user in emails.values()):
        return None
    teams = []
    for team_name, staff in TEAMS.items():
        user = emails[email(staff["manager"][0])]
        timezone = ZoneInfo(user.timezone)
        reps = [emails[email(login)] for login, _name in staff["reps"]]
        members = [user, emails[email(staff["support"][0])], *reps]
        teams.append(
            Staff(
                name=team_name,
                timezone=timezone,
                manager=user,
                support=members[1],
                reps=reps,
                joined={m.id: m.created_at.astimezone(timezone).date() for m in members},
            )
        )
    return teams


def _seeded():
    demo_users = select(User.id).where(User.email.like(f"%@{DOMAIN}"))
    return db.session.scalar(select(Customer.id).where(Customer.created_by_id.in_(demo_users)).limit(1))


def seed():
    if _seeded():
        return
    staff = load_staff()
    if staff is None:
        return
    events = scenario.plan(staff, clock.now(), settings.current().similarity_percent / 100)
    try:
        with write_transaction():
            for event, story in events:
                if story.failed:
                    continue
                clock.set_now(event.at)
                _apply(story, event.kind, event.args)
                # The services lock a customer with session.refresh(), which drops changes
                # not flushed yet (such as the owner insert_customers sets after its flush).
                db.session.flush()
    finally:
        clock.set_now(None)
    _tidy_up()


def _tidy_up():
    """PostgreSQL: every follow-up rewrote its customer's row, so the table holds ten
    dead versions per customer and no statistics yet; until autovacuum comes by, the
    planner would scan it and recompute every search vector. Clean up now."""
    if db.engine.dialect.name != "postgresql":
        return
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(TIDY_TABLES)}")


def _apply(story, kind, args):
    if kind == "create":
        actor, owner = args
        try:
            # The demo's companies are distinct: a similar name (a shared trade name) is
            # confirmed, as a person who checked would; an exact duplicate is not.
            customer = create_customer(
                actor, story.data, owner_id=owner.id if owner else None, confirm_similar=True
            )
        except DuplicateFound:
            # Someone already has this customer (a ledger that was not empty): leave it out.
            story.failed = True
            return
        story.customer_id, story.customer = customer.id, customer
        return
    customer_id = story.customer_id
    if kind == "follow_up":
        author, channel, content, next_step, next_on = args
        log_follow_up(
            author,
            customer_id,
            channel=channel,
            content=content,
            next_step=next_step,
            next_follow_up_on=next_on,
        )
    elif kind == "stage":
        actor, stage = args
        version = db.session.get(Customer, customer_id).version
        change_stage(actor, customer_id, stage, version)
    elif kind == "owner":
        new_owner, reason, actor, note = args
        with write_transaction():
            customer = db.session.get(Customer, customer_id)
            record_owner_change(customer, new_owner, reason, actor, note=note)
    elif kind == "add":
        actor, user = args
        add_collaborator(actor, customer_id, user.id)
    elif kind == "request":
        user, message = args
        request_collaboration(user, customer_id, message)
    elif kind == "answer":
        actor, user, approve = args
        answer_collaboration(actor, customer_id, user.id, approve)

"""The ledger's demo data: about 300 believable customers, loaded once by `salesdesk demo`."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from salesdesk import clock
from salesdesk.auth.models import Role, Team, User
from salesdesk.demo import company, scenario
from salesdesk.demo.ledger import load_staff
from salesdesk.extensions import db
from salesdesk.ledger import keys, search
from salesdesk.ledger.models import (
    CHANNEL_LABELS,
    Collaborator,
    Contact,
    ContactPhone,
    Customer,
    FollowUp,
    OwnershipChange,
    Stage,
    StageChange,
)
from salesdesk.ledger.queries import Filters, list_customers

TIMEZONE = "Asia/Shanghai"


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def found(user, query, customer_id):
    page = list_customers(user, Filters(q=query, per_page=1000))
    return customer_id in {customer.id for customer in page.items}


def initials(name):
    """What a user types: the initials of the name as read aloud (重庆 is chóngqìng)."""
    return "".join(search.pinyin(name, initials=True))


def test_demo_loads_a_believable_ledger_once(app, demo):
    totals = (count(Customer), count(Contact), count(FollowUp), count(Collaborator))
    assert totals[0] == 3 * scenario.CUSTOMERS_PER_TEAM

    # Idempotent: a second run adds nothing and, like the first, prints only the logins.
    second = app.test_cli_runner().invoke(args=["salesdesk", "demo"])
    assert second.exit_code == 0, second.output
    assert second.output == demo.output and "Demo logins" in demo.output
    db.session.rollback()
    assert (count(Customer), count(Contact), count(FollowUp), count(Collaborator)) == totals
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1), "the clock was left frozen"

    customers = db.session.scalars(select(Customer)).all()
    now, today = clock.now(), clock.today(TIMEZONE)

    # Customers: distinct names in all three teams, about 15 % in the pool.
    assert len({c.name for c in customers if c.kind == "company"}) == sum(
        c.kind == "company" for c in customers
    )
    assert any(c.kind == "person" for c in customers)
    teams = Counter(db.session.get(Team, c.team_id).name for c in customers)
    assert set(teams) == {"华东大区", "华南大区", "华北大区"} and min(teams.values()) >= 90
    pool = [c for c in customers if c.owner_id is None]
    assert 0.10 <= len(pool) / len(customers) <= 0.20
    for customer in customers:
        assert customer.province and customer.city and customer.industry
        if customer.credit_code:
            assert keys.credit_code_key(customer.credit_code) == customer.credit_code
    assert sum(c.credit_code is not None for c in customers) >= 50
    assert {c.grade for c in customers} == set("ABCD")
    # Custom fields filled on about 60 % of the customers and of their contacts.
    assert 0.5 <= sum(bool(c.custom) for c in customers) / len(customers) <= 0.7
    contacts = db.session.scalars(select(Contact)).all()
    assert 0.5 <= sum(bool(c.custom) for c in contacts) / len(contacts) <= 0.7
    assert {c.custom["decision_role"] for c in contacts if c.custom} == {"c1", "c2", "c3", "c4"}
    assert any(c.expected_amount > 100_000 for c in customers)

    # Stages: a funnel, with deals won and lost; every customer's history starts at creation.
    stages = Counter(c.stage for c in customers)
    assert set(stages) == set(Stage)
    assert stages[Stage.LEAD] + stages[Stage.CONTACTED] > 3 * stages[Stage.NEGOTIATING]
    assert count(StageChange, StageChange.from_stage.is_(None)) == len(customers)

    # Contacts: one to three each, unique Chinese mobile numbers, some landlines.
    per_customer = Counter(db.session.scalars(select(Contact.customer_id)))
    assert set(per_customer) == {c.id for c in customers} and set(per_customer.values()) <= {1, 2, 3}
    phone_keys = db.session.scalars(select(ContactPhone.key)).all()
    assert len(set(phone_keys)) == len(phone_keys)
    mobiles = [k for k in phone_keys if k.startswith("1")]
    assert mobiles and all(re.fullmatch(r"1[3589]\d{9}", k) for k in mobiles)
    assert sum(k.startswith("0") for k in phone_keys) >= 20
    assert count(Contact, Contact.email.is_not(None)) >= 100

    # About six months of follow-ups on every channel, none in the future.
    oldest, newest = db.session.execute(
        select(func.min(FollowUp.occurred_at), func.max(FollowUp.occurred_at))
    ).one()
    assert now - timedelta(days=185) < oldest < now - timedelta(days=150)
    assert now - timedelta(days=3) < newest <= now
    assert set(db.session.scalars(select(FollowUp.channel).distinct())) == set(CHANNEL_LABELS)
    assert count(FollowUp) >= 4 * len(customers)

    # The workbench has something to show: follow-ups due today and overdue.
    owned = [c for c in customers if c.owner_id is not None]
    assert sum(c.next_follow_up_on == today for c in owned) >= 5
    assert sum(c.next_follow_up_on is not None and c.next_follow_up_on < today for c in owned) >= 5
    assert not any(c.next_follow_up_on is not None and c.next_follow_up_on < today for c in pool)

    # Ownership: mostly reps; managers assigned some; colleagues and support collaborate.
    roles = Counter(db.session.get(User, c.owner_id).role for c in owned)
    assert roles[Role.REP] >= 0.8 * len(owned) and roles[Role.MANAGER] >= 3
    reasons = Counter(db.session.scalars(select(OwnershipChange.reason)))
    assert reasons["assign"] >= 3 and reasons["release"] >= 3 and reasons["reclaim_no_follow_up"] >= 3
    statuses = Counter(db.session.scalars(select(Collaborator.status)))
    assert statuses["active"] >= 20 and statuses["requested"] >= 2

    # The product's rules hold: open customers are followed up within 15 days of the
    # last time and were taken less than 90 days ago.
    for customer in owned:
        if customer.stage not in (Stage.WON, Stage.LOST):
            assert now - customer.owned_since < timedelta(days=90), customer.name
            assert now - max(
                customer.last_follow_up_at or customer.owned_since, customer.owned_since
            ) < timedelta(days=15), customer.name

    # Every customer is found by the pinyin initials of its name; a sample also by those
    # of its distinctive part (hdjmjx for 苏州恒达精密机械有限公司).
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    missed = [c.name for c in customers if not found(admin, initials(c.name), c.id)]
    assert not missed, missed
    for customer in [c for c in customers if c.kind == "company"][::10]:
        assert found(admin, initials(keys.company_key(customer.name)), customer.id), customer.name

    # A manager finds a customer of the team by a fragment of a contact's phone.
    manager = db.session.scalar(select(User).where(User.email == "wang.jianguo@salesdesk.example"))
    customer = next(c for c in owned if db.session.get(User, c.owner_id).team_id == manager.team_id)
    assert found(manager, customer.contacts[0].phones[0].key[-6:], customer.id)


def test_a_city_in_parentheses_is_read_on_its_own():
    # 进出口（重庆） must not be read as 进出口重庆 (…kǒu zhòng qìng): users type cq or chongqing.
    tokens = search.name_tokens("渝海进出口（重庆）有限公司").split()
    assert "cqyxgs" in tokens and "chongqingyouxiangongsi" in tokens


def test_the_demo_plan_works_whatever_the_day_and_hour(app):
    """The demo is planned back from 'now' (users joined N days before it): it must plan
    at any hour of any weekday, weekends, holidays and midnight in Shanghai included."""
    import dataclasses

    real_now = clock.now()
    company.seed()
    staff = load_staff()
    start = datetime(2026, 9, 28, 0, 0, tzinfo=UTC)  # the week before 国庆
    for step in range(40):
        moment = start + timedelta(hours=7 * step + step % 3)
        shift = moment - real_now  # as if the company had been set up relative to this moment
        moved = [
            dataclasses.replace(team, joined={user: day + shift for user, day in team.joined.items()})
            for team in staff
        ]
        assert scenario.plan(moved, moment, 0.85), moment

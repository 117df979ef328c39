"""Three months of recognition for the demo company: awards, thanks, automatic points,
a reversal and the 协作之星 badges of the closed months.

Everything goes through the services with the clock set to the moment of each event, so
the demo obeys the same budgets and limits as real use (an event a limit refuses is
simply left out).
"""

import random
from contextlib import suppress
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from .. import clock
from ..auth.models import User
from ..database import write_transaction
from ..errors import DomainError
from ..extensions import db
from ..ledger.models import Customer, Stage, StageChange
from ..notifications import Notification
from ..recognition import automatic, badges, entries, giving
from ..recognition.models import Category, Kind, PointEntry
from ..recognition.periods import add_months, company_zone_name, local_midnight, this_month
from .company import DOMAIN
from .words import ADMIN, AWARD_REASONS, MUTUAL_THANKS, REVERSAL_REASON, TEAMS, THANKS

AWARD_CATEGORY_WEIGHTS = {
    Category.FOLLOW_UP: 5,
    Category.KNOWLEDGE: 2,
    Category.MENTORING: 2,
    Category.DEAL: 3,
    Category.OTHER: 1,
}
AWARD_POINTS = [10, 15, 20, 20, 25, 30, 30, 40, 50]
THANKS_POINTS = [1, 2, 2, 3, 3, 3, 5]


def seed():
    if db.session.scalar(select(PointEntry.id).where(PointEntry.kind == Kind.AWARD).limit(1)):
        return
    users = {
        user.email.split("@")[0]: user
        for user in db.session.scalars(
            select(User).where(User.email.like(f"%@{DOMAIN}"), User.active.is_(True))
        )
    }
    if ADMIN[0] not in users:
        return  # the accounts demo did not run
    # The demo moves the clock back through three months; clock.at() puts it back.
    with clock.at(clock.now()), write_transaction():
        _Demo(users).run()


class _Demo:
    def __init__(self, users):
        self.users = users
        self.random = random.Random(20261101)
        self.zone = ZoneInfo(company_zone_name())
        self.now = clock.now()
        current = this_month(self.now, self.zone)
        self.months = [add_months(current, -3), add_months(current, -2), add_months(current, -1), current]
        self.start = local_midnight(self.months[0], self.zone)
        self.events = []

    def run(self):
        self.plan_awards()
        self.plan_thanks()
        self.plan_mutual_pair()
        self.plan_won_customers()
        for month in self.months[:-1]:
            closes_at = local_midnight(add_months(month, 1), self.zone) + timedelta(minutes=10)
            self.events.append((closes_at, 0, lambda month=month: badges.close_month(month)))
        self.plan_reversal()
        for moment, _order, action in sorted(self.events, key=lambda event: (event[0], event[1])):
            clock.set_now(moment)
            # A budget or limit refuses some events, as it would have refused a person.
            with suppress(DomainError):
                action()
        clock.set_now(self.now)
        # Old notifications have been seen; the last four days' stay unread.
        db.session.execute(
            update(Notification)
            .where(
                Notification.kind.like("points.%") | (Notification.kind == "badge.awarded"),
                Notification.created_at < self.now - timedelta(days=4),
                Notification.read_at.is_(None),
            )
            .values(read_at=Notification.created_at)
        )

    # ---- when things happen ------------------------------------------------------

    def moment(self, month, weekend=False):
        """A working-hours moment in `month` (local), before now; None if none is left."""
        first = local_midnight(month, self.zone)
        last = min(local_midnight(add_months(month, 1), self.zone), self.now - timedelta(hours=1))
        if last <= first:
            return None
        for _attempt in range(20):
            at = first + timedelta(seconds=self.random.uniform(0, (last - first).total_seconds()))
            local = at.astimezone(self.zone)
            if (local.weekday() < 5 or weekend) and 9 <= local.hour < 20:
                return at
        return None

    def member(self, user, moment):
        return user is not None and user.created_at <= moment

    def team_of(self, login):
        return next(name for name, staff in TEAMS.items() if login in self.logins(staff))

    @staticmethod
    def logins(staff):
        return [staff["manager"][0], staff["support"][0], *(login for login, _name in staff["reps"])]

    def add(self, at, action):
        if at is not None:
            self.events.append((at, 1, action))

    # ---- awards and thanks --------------------------------------------------------

    def plan_awards(self):
        categories = list(AWARD_CATEGORY_WEIGHTS)
        weights = list(AWARD_CATEGORY_WEIGHTS.values())
        givers = [(staff["manager"][0], team) for team, staff in TEAMS.items()] + [(ADMIN[0], None)]
        for month in self.months:
            for giver_login, team in givers:
                count = self.random.randint(9, 13) if team else self.random.randint(2, 4)
                for _ in range(count):
                    if team is None or self.random.random() < 0.15:
                        pool = [login for staff in TEAMS.values() for login in self.logins(staff)]
                    else:
                        pool = self.logins(TEAMS[team])
                    recipient = self.random.choice([login for login in pool if login != giver_login])
                    category = self.random.choices(categories, weights)[0]
                    self.add(
                        self.moment(month),
                        self.award_action(
                            giver_login,
                            recipient,
                            self.random.choice(AWARD_POINTS),
                            category,
                            self.random.choice(AWARD_REASONS[category]),
                        ),
                    )

    def award_action(self, giver_login, recipient_login, points, category, reason):
        def action():
            giver, recipient = self.users.get(giver_login), self.users.get(recipient_login)
            if self.member(giver, clock.now()) and self.member(recipient, clock.now()):
                giving.award_points(
                    giver, recipient_id=recipient.id, points=points, category=category, reason=reason
                )

        return action

    def thanks_action(self, giver_login, recipient_login, points, category, reason):
        def action():
            giver, recipient = self.users.get(giver_login), self.users.get(recipient_login)
            if self.member(giver, clock.now()) and self.member(recipient, clock.now()):
                giving.thank(
                    giver, recipient_id=recipient.id, points=points, category=category, reason=reason
                )

        return action

    def plan_thanks(self):
        everyone = [login for staff in TEAMS.values() for login in self.logins(staff)]
        for month in self.months:
            for giver in everyone:
                colleagues = self.logins(TEAMS[self.team_of(giver)])
                for _ in range(self.random.randint(3, 6)):
                    pool = colleagues if self.random.random() < 0.75 else everyone
                    recipient = self.random.choice([login for login in pool if login != giver])
                    reason, category = self.random.choice(THANKS)
                    self.add(
                        self.moment(month),
                        self.thanks_action(
                            giver, recipient, self.random.choice(THANKS_POINTS), Category(category), reason
                        ),
                    )

    def plan_mutual_pair(self):
        """Two colleagues who thank each other twice a week: the manager report flags them."""
        first, second = "zhang.wei", "liu.yang"
        day = self.start.astimezone(self.zone).date()
        day -= timedelta(days=day.weekday())
        while local_midnight(day, self.zone) < self.now:
            for weekday in (1, 3):  # Tuesday and Thursday evenings
                at = local_midnight(day + timedelta(days=weekday), self.zone) + timedelta(hours=18)
                if self.start <= at < self.now:
                    reason = self.random.choice(MUTUAL_THANKS)
                    self.add(at, self.thanks_action(first, second, 2, Category.OTHER, reason))
                    self.add(
                        at + timedelta(minutes=7),
                        self.thanks_action(second, first, 2, Category.OTHER, reason),
                    )
            day += timedelta(days=7)

    # ---- automatic points ----------------------------------------------------------

    def plan_won_customers(self):
        won = db.session.execute(
            select(Customer, func.max(StageChange.at))
            .join(StageChange, (StageChange.customer_id == Customer.id) & (StageChange.to_stage == Stage.WON))
            .where(Customer.stage == Stage.WON, Customer.deleted_at.is_(None))
            .group_by(Customer.id)
        ).all()
        for customer, won_at in won:
            at = won_at if won_at is not None and won_at >= self.start else self.moment(self.months[1])
            self.add(at, lambda customer=customer: automatic.points_for_won_customer(customer))

    def plan_reversal(self):
        """An administrator reverses an award that was given twice for the same deal."""
        admin = self.users[ADMIN[0]]
        at = self.moment(self.months[2])
        if at is None:
            return

        def action():
            duplicate = db.session.scalar(
                select(PointEntry)
                .where(PointEntry.kind == Kind.AWARD, PointEntry.giver_id == self.users["huang.zhiqiang"].id)
                .order_by(PointEntry.id.desc())
                .limit(1)
            )
            if duplicate is not None:
                entries.reverse_entry(admin, duplicate.id, reason=REVERSAL_REASON)

        self.events.append((at, 2, action))

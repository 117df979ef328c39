"""How a demo customer's story goes, from its creation on: the owner's follow-ups at a
believable rhythm (working days, working hours, never more than MAX_GAP days apart),
moving the stage on; won, lost, or gone quiet until the rules took it back. Pure Python:
the planner makes up events at the moments they happened, and nothing is written until
seed() plays them back through the services (salesdesk/demo/ledger.py)."""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..auth.models import User
from ..ledger.models import Customer, Stage
from ..ledger.validation import CustomerInput
from .customers import CustomerMaker, pick
from .words import LEAD_NOTES, NOTES, PERSON_NOTES, RELEASE_NOTES, SYSTEMS, Sector
from .workdays import day_off, holiday
from .writing import Writer

SEED = 3

# The rules the history keeps to (defaults of PRODUCT.md, section 2).
MAX_GAP = 13  # days between an owner's follow-ups: reclaimed after 15 without one
RECLAIM_AFTER = 15
DEAL_DAYS = 88  # open customers were taken less than 90 days ago
RECLAIM_NO_DEAL = 90
HISTORY_DAYS = 178

# Age in days of open customers by stage (a lead is new, a negotiation has a history).
OPEN_AGES = {
    Stage.LEAD: (1, 21),
    Stage.CONTACTED: (5, 40),
    Stage.QUALIFIED: (15, 60),
    Stage.QUOTED: (25, 80),
    Stage.NEGOTIATING: (35, DEAL_DAYS),
}
PATH = [Stage.CONTACTED, Stage.QUALIFIED, Stage.QUOTED, Stage.NEGOTIATING]

# Minutes of the day, local time, when each channel is used.
HOURS = {
    "phone": (9 * 60, 18 * 60),
    "wechat": (9 * 60, 21 * 60 + 30),
    "visit": (9 * 60 + 30, 16 * 60 + 30),
    "email": (8 * 60 + 45, 18 * 60 + 30),
    "meeting": (9 * 60 + 30, 17 * 60),
}


@dataclass
class Event:
    at: datetime
    seq: int
    kind: str
    args: tuple


@dataclass
class Story:
    """One customer from its creation on."""

    team: "Staff"
    data: CustomerInput
    people: list
    sector: Sector
    place: str
    seats: int
    events: list = field(default_factory=list)
    owner: User | None = None
    # The owner's follow-ups (local day, moment, phase), for colleagues joining in between.
    owner_follow_ups: list = field(default_factory=list)
    stage: str = Stage.LEAD  # as the plan has got so far
    system: str = ""  # what they use today (金蝶, 用友 …)
    used: set = field(default_factory=set)  # templates already used for this customer
    customer_id: int | None = None
    # Held so the session's identity map (weak references) keeps it between services.
    customer: Customer | None = None
    failed: bool = False


@dataclass
class Staff:
    name: str
    timezone: ZoneInfo
    manager: User
    support: User
    reps: list
    joined: dict  # user id -> local date


class Planner:
    """Makes up stories of events (create, follow-up, stage change, owner change,
    collaboration) at the moments they happened; salesdesk/demo/scenario.py says which
    stories each team has."""

    def __init__(self, staff, now, similarity):
        self.rng = random.Random(SEED)
        self.staff = staff
        self.now = now
        self.customers = CustomerMaker(self.rng, similarity)
        self.writer = Writer(self.rng, self.customers)
        self.stories = []
        self.seq = 0

    # ---- helpers ----

    def today(self, team):
        return self.now.astimezone(team.timezone).date()

    def last_day(self, team):
        """The last day events may fall on: today once the working day is well under way."""
        local = self.now.astimezone(team.timezone)
        return local.date() if local.hour >= 12 else local.date() - timedelta(days=1)

    def moment(self, team, day, channel="phone"):
        start, end = HOURS[channel]
        if day == self.today(team):
            local = self.now.astimezone(team.timezone)
            end = min(end, local.hour * 60 + local.minute - 180)
            start = min(start, end)
        minute = self.rng.randint(start, end)
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=team.timezone)

    def workday(self, day, low, high):
        """Most work happens on working days: move a weekend or holiday to the nearest
        working day strictly between low and high (now and then someone works a Saturday)."""
        if not day_off(day) or (day.weekday() == 5 and not holiday(day) and self.rng.random() < 0.1):
            return day
        for distance in range(1, 11):
            for candidate in (day - timedelta(days=distance), day + timedelta(days=distance)):
                if low < candidate < high and not day_off(candidate):
                    return candidate
        return day

    def days(self, first, last, at_least=1):
        """Follow-up days from first to last, both included, never more than MAX_GAP apart."""
        if first < last:
            first = self.workday(first, first - timedelta(days=1), min(last, first + timedelta(days=10)))
        days = [first]
        while (last - days[-1]).days > MAX_GAP:
            step = self.rng.randint(3, MAX_GAP - 2)
            day = days[-1] + timedelta(days=step)
            days.append(self.workday(day, days[-1], min(last, days[-1] + timedelta(days=MAX_GAP + 1))))
        if last > days[-1]:
            days.append(last)
        while len(days) < at_least:
            gaps = [i for i in range(len(days) - 1) if (days[i + 1] - days[i]).days >= 2]
            if not gaps:
                break
            i = self.rng.choice(gaps)
            day = days[i] + timedelta(days=self.rng.randint(1, (days[i + 1] - days[i]).days - 1))
            days.insert(i + 1, self.workday(day, days[i], days[i + 1]))
        return days

    def tenure(self, team, user):
        return (self.today(team) - team.joined[user.id]).days

    def add(self, story, at, kind, *args):
        self.seq += 1
        story.events.append(Event(at, self.seq, kind, args))

    def new_story(self, team, stage, *, grade=None, source=None, person=False, lead_note=None):
        data, people, sector, place, seats = self.customers.customer(
            team, stage, grade=grade, source=source, person=person
        )
        story = Story(team, data, people, sector, place, seats, system=self.rng.choice(SYSTEMS))
        if lead_note:
            data.notes = self.writer.fill(self.rng.choice(LEAD_NOTES[lead_note]), story)
        elif person:
            data.notes = self.rng.choice(PERSON_NOTES)
        elif self.rng.random() < 0.3:
            data.notes = self.writer.fill(self.rng.choice(NOTES), story)
        self.stories.append(story)
        return story

    def follow_up(self, story, author, day, phase, next_day=None, *, after=None, index=None):
        template = self.writer.template(story, phase, day, next_day, index)
        at = self.moment(story.team, day, template.channel)
        if after is not None and at <= after:
            at = after + timedelta(minutes=self.rng.randint(15, 120))
        self.add(
            story,
            at,
            "follow_up",
            author,
            template.channel,
            self.writer.fill(template.content, story, day, next_day),
            self.writer.fill(template.next_step, story) if next_day else "",
            next_day,
        )
        if author is story.owner:
            story.owner_follow_ups.append((day, at, phase))
        return at

    # ---- how it went ----

    def phases(self, count, path):
        """One phase per follow-up: maybe a failed attempt first, then each stage of
        `path` entered in turn (with follow-ups in between)."""
        path = list(path)
        while len(path) > count:
            del path[1 if len(path) > 2 else 0]
        if not path:
            return ["attempt"] * count
        attempts = 1 if count > len(path) + 1 and self.rng.random() < 0.3 else 0
        rest = count - attempts
        cuts = sorted(self.rng.sample(range(1, rest), len(path) - 1)) if len(path) > 1 else []
        phases = ["attempt"] * attempts
        for start, end, stage in zip([0, *cuts], [*cuts, rest], path, strict=True):
            phases += [("enter", stage)] + [("ongoing", stage)] * (end - start - 1)
        return phases

    def work(self, story, days, phases, final_next, *, after=None):
        """The owner's follow-ups on `days`, moving the stage as the phases enter one."""
        for i, (day, phase) in enumerate(zip(days, phases, strict=True)):
            if i + 1 < len(days):
                next_day = days[i + 1]
                if self.rng.random() < 0.2 and (next_day - day).days >= 3:
                    next_day -= timedelta(days=self.rng.randint(1, 2))  # a little late
            else:
                next_day = final_next
            at = self.follow_up(story, story.owner, day, phase, next_day, after=after)
            after = None
            target = phase[1] if isinstance(phase, tuple) and phase[0] == "enter" else None
            target = {"won": Stage.WON, "lost": Stage.LOST}.get(phase, target)
            if target and target != story.stage:
                self.add(story, at + timedelta(minutes=self.rng.randint(3, 20)), "stage", story.owner, target)
                story.stage = target

    def final_next(self, team, days_ago):
        """The next date the last follow-up planned (`days_ago` days ago): due today,
        overdue, or coming up."""
        today = self.today(team)
        bucket = pick(self.rng, [("due", 12), ("overdue", 14), ("future", 74)])
        if bucket == "due" and days_ago >= 1:
            return today
        if bucket == "overdue" and days_ago >= 2:
            day = today - timedelta(days=self.rng.randint(1, days_ago - 1))
            return self.workday(day, today - timedelta(days=days_ago), today)
        day = today + timedelta(days=self.rng.randint(1, 9))
        return self.workday(day, today, today + timedelta(days=14))

    def recent_day(self, team, low, high):
        """A working day low..high days before the last usable day (if there is one)."""
        last = self.last_day(team)
        day = last - timedelta(days=self.rng.randint(low, high))
        return self.workday(day, last - timedelta(days=high + 1), last - timedelta(days=low - 1))

    def earlier_workday(self, day, not_before):
        """`day`, or the working day before it (not before `not_before`)."""
        return self.workday(
            day, max(day - timedelta(days=11), not_before - timedelta(days=1)), day + timedelta(days=1)
        )

    def open_story(self, team, stage, owner, *, person=False, grade=None):
        """A customer its owner is still working on."""
        today, last = self.today(team), self.last_day(team)
        story = self.new_story(team, stage, person=person, grade=grade)
        story.owner = owner
        oldest = self.tenure(team, owner) - 1  # nothing before the owner joined
        if stage == Stage.LEAD:
            count = self.rng.choice([0, 0, 1, 1, 2])
            if count == 0:
                created = self.recent_day(team, 0, min(8, oldest))
                story.data.next_follow_up_on = self.final_next(team, (today - created).days)
                self.add(story, self.moment(team, created), "create", owner, owner)
                return story
            days = [self.recent_day(team, 0, min(10, oldest))]
            if count == 2:
                days.insert(0, days[0] - timedelta(days=self.rng.randint(2, 6)))
            created = max(days[0] - timedelta(days=self.rng.randint(0, 2)), today - timedelta(days=oldest))
            # Nothing before the customer existed (the rep may have joined days ago).
            days = sorted({max(day, created) for day in days})
            at = self.moment(team, created)
            self.add(story, at, "create", owner, owner)
            self.work(
                story, days, ["attempt"] * len(days), self.final_next(team, (today - days[-1]).days), after=at
            )
            return story
        low, high = OPEN_AGES[stage]
        created = min(today - timedelta(days=self.rng.randint(low, max(low, min(high, oldest)))), last)
        created = self.earlier_workday(created, team.joined[owner.id])
        if (today - created).days > DEAL_DAYS:
            # A holiday moved it back past the deal period: the first working day after.
            oldest_day = today - timedelta(days=DEAL_DAYS)
            created = self.workday(oldest_day, oldest_day - timedelta(days=1), last + timedelta(days=1))
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        self.continue_open(story, created, stage, after=at, fresh=True)
        return story

    def continue_open(self, story, start, stage, *, after=None, fresh=False):
        """The owner's follow-ups from `start` until recently, reaching `stage`; the last
        one plans the next follow-up (due today, overdue or coming up)."""
        team, rng = story.team, self.rng
        last = self.last_day(team)
        last_followed = self.recent_day(team, 0, min(10, (last - start).days))
        first = min(start + timedelta(days=rng.randint(0, 3)), last_followed)
        path = PATH[: PATH.index(stage) + 1]
        if len(path) > 2 and rng.random() < 0.1:
            path.remove(Stage.QUALIFIED)  # reps skip a stage now and then
        days = self.days(first, last_followed, at_least=len(path) + rng.randint(0, 2))
        phases = self.phases(len(days), path)
        final = self.final_next(team, (self.today(team) - days[-1]).days)
        if fresh and first == start and phases[0] == ("enter", Stage.CONTACTED) and rng.random() < 0.25:
            story.data.stage = story.stage = Stage.CONTACTED  # entered after a first conversation
        self.work(story, days, phases, final, after=after)

    def won_story(self, team, owner):
        today, last = self.today(team), self.last_day(team)
        story = self.new_story(team, Stage.WON, grade="A" if owner is team.manager else None)
        story.owner = owner
        age = self.rng.randint(45, max(46, min(HISTORY_DAYS, self.tenure(team, owner) - 1)))
        created = self.earlier_workday(today - timedelta(days=age), team.joined[owner.id])
        won = min(created + timedelta(days=self.rng.randint(20, min(85, age - 10))), last - timedelta(days=3))
        won = self.earlier_workday(won, created + timedelta(days=10))
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        path = list(PATH)
        if self.rng.random() < 0.15:
            path.remove(Stage.QUALIFIED)
        days = self.days(created + timedelta(days=self.rng.randint(0, 3)), won, at_least=len(path) + 2)
        # After the deal: payment, kick-off, go-live, regular calls.
        after, day = [], won
        while True:
            day = day + timedelta(
                days=self.rng.randint(7, 30) if len(after) < 3 else self.rng.randint(20, 45)
            )
            day = self.workday(day, won, last)
            if day > last - timedelta(days=1):
                break
            after.append(day)
        phases = self.phases(len(days) - 1, path) + ["won"]
        self.work(
            story, days, phases, after[0] if after else self.final_next(team, (today - won).days), after=at
        )
        for i, day in enumerate(after):
            if i + 1 < len(after):
                next_day = after[i + 1]
            else:
                next_day = pick(self.rng, [(None, 5), (today + timedelta(days=self.rng.randint(5, 40)), 5)])
            self.follow_up(story, owner, day, "after_won", next_day, index=i)
        return story

    def lost_story(self, team, owner, lost_day, release):
        """A deal that got away on `lost_day`; released to the pool afterwards, or not yet."""
        story = self.new_story(team, Stage.LOST)
        story.owner = owner
        lost_day = self.earlier_workday(lost_day, lost_day - timedelta(days=4))
        room = HISTORY_DAYS - (self.today(team) - lost_day).days
        created = lost_day - timedelta(days=self.rng.randint(20, max(20, min(70, room))))
        created = self.earlier_workday(created, team.joined[owner.id])
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        reached = pick(self.rng, [(Stage.QUALIFIED, 3), (Stage.QUOTED, 4), (Stage.NEGOTIATING, 2)])
        path = PATH[: PATH.index(reached) + 1]
        days = self.days(created + timedelta(days=self.rng.randint(0, 3)), lost_day, at_least=len(path) + 1)
        phases = self.phases(len(days) - 1, path) + ["lost"]
        self.work(story, days, phases, None, after=at)
        if release:
            day = self.workday(lost_day + timedelta(days=self.rng.randint(0, 2)), lost_day, self.today(team))
            lost_at = max(event.at for event in story.events)
            at = max(self.moment(team, day), lost_at + timedelta(minutes=self.rng.randint(20, 90)))
            self.add(story, at, "owner", None, "release", owner, self.rng.choice(RELEASE_NOTES))
        return story

    def quiet_story(self, team, owner, created, reason):
        """Worked for a while, then nothing: the rules put it back in the pool."""
        story = self.new_story(team, Stage.CONTACTED if reason == "reclaim_no_follow_up" else Stage.QUALIFIED)
        story.owner = owner
        created = self.earlier_workday(created, team.joined[owner.id])
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        if reason == "reclaim_no_follow_up":
            count = self.rng.randint(1, 3)
            end = self.earlier_workday(created + timedelta(days=self.rng.randint(count, 12)), created)
            days = self.days(created, end, count)
            path = [Stage.CONTACTED] if count > 1 else []
            reclaimed = days[-1] + timedelta(days=RECLAIM_AFTER)
        else:
            reached = pick(self.rng, [(Stage.QUALIFIED, 1), (Stage.QUOTED, 1)])
            path = PATH[: PATH.index(reached) + 1]
            end = self.earlier_workday(
                created + timedelta(days=RECLAIM_NO_DEAL - self.rng.randint(2, 8)), created
            )
            days = self.days(created + timedelta(days=self.rng.randint(0, 3)), end, at_least=len(path) + 2)
            reclaimed = created + timedelta(days=RECLAIM_NO_DEAL)
        phases = self.phases(len(days) - 1, path) + ["stall"]
        self.work(story, days, phases, None, after=at)
        moment = datetime.combine(reclaimed, time(8, self.rng.randint(30, 59)), tzinfo=team.timezone)
        self.add(story, moment, "owner", None, reason, None, "")
        return story, reclaimed

    # ---- in order ----

    def events(self):
        """Every story's events, in the order they happened (none in the future)."""
        events = []
        limit = self.now - timedelta(minutes=5)
        for story in self.stories:
            story.events.sort(key=lambda event: (event.at, event.seq))
            previous = None
            for event in story.events:
                if previous is not None and event.at <= previous:
                    event.at = previous + timedelta(minutes=self.rng.randint(2, 9))
                previous = event.at
                if event.at > limit:
                    raise RuntimeError(f"demo event in the future: {event.kind} {event.at}")
                events.append((event, story))
        events.sort(key=lambda pair: (pair[0].at, pair[0].seq))
        return events

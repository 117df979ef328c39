"""The demo support desk: the published holidays in the working calendar, 杨帆 as the
support lead, and four working weeks of requests (data/support.toml) from the demo
sellers about their own customers, in every state: waiting, in progress, sent back,
waiting for confirmation, rated, closed unrated, cancelled, one reopened and two that
breached their service level.

Every step goes through the desk's services with the clock set to its moment, in the
order they happened across all requests, so routing, due times, timelines, ratings,
notifications and the 5-star points are what the app itself would have written. Between
steps the demo does what the periodic jobs would have done by then: close unrated
requests and record breaches. Runs after the ledger; does nothing once there are
requests."""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from .. import clock
from ..auth.models import Role, User
from ..database import write_transaction
from ..extensions import db
from ..ledger.models import Contact, Customer
from ..notifications import Notification
from ..support import breaches, holidays, levels, lifecycle, requests
from ..support.calendar import add_working_minutes, is_working_day, working_minutes_between
from ..support.models import CalendarDay, Priority, Request, RequestType, Status
from .company import DOMAIN, email
from .words import CITY_CODES, SECTORS, TERRITORIES, read
from .writing import _wan

WORDS = read("support")
LEAD = "yang.fan"
HISTORY_DAYS = 20  # working days of requests before today
SEED = 20261117

# How many requests of each type, and the stages their customers are at.
TYPE_COUNTS = {
    "报价支持": 12,
    "合同审核": 8,
    "技术方案": 7,
    "资料准备": 7,
    "订单跟进": 6,
    "售后协调": 6,
    "其他": 3,
}
TYPE_STAGES = {
    "报价支持": ("qualified", "quoted", "negotiating"),
    "合同审核": ("negotiating", "quoted"),
    "技术方案": ("contacted", "qualified", "quoted"),
    "资料准备": ("contacted", "qualified", "quoted"),
    "订单跟进": ("won",),
    "售后协调": ("won",),
    "其他": ("qualified", "quoted", "negotiating", "won"),
}
# What became of the requests: how each story ends, and how many end so.
ENDINGS = {
    "closed": 20,
    "closed_late": 1,  # accepted after its first-response time: a breach, 3 stars
    "reopened": 1,  # the requester reopened it before rating
    "auto_closed": 2,  # nobody rated it: it closed by itself
    "resolved": 5,
    "in_progress": 6,
    "overdue": 1,  # still in progress past its resolution time: a breach
    "returned": 3,
    "new": 5,
    "new_assigned": 1,  # the lead gave it to someone else before it was accepted
    "cancelled": 4,
}
RATINGS = {5: 11, 4: 7, 3: 2}
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")


def seed():
    lead = db.session.scalar(select(User).where(User.email == email(LEAD)))
    if lead is None:
        return  # the accounts demo did not run
    with write_transaction() as session:
        _load_holidays(session)
        lead.support_lead = True
    if db.session.scalar(select(Request.id).limit(1)) is not None:
        return
    if db.session.scalar(select(Customer.id).where(Customer.owner_id.is_not(None)).limit(1)) is None:
        return  # the ledger demo did not run
    # The demo moves the clock through four weeks; clock.at() puts it back.
    with clock.at(clock.now()), write_transaction():
        _Desk(lead).run()


def _load_holidays(session):
    """Every published year's holidays and make-up working days, as the admin's button
    loads them."""
    known = set(session.scalars(select(CalendarDay.day)))
    for year in holidays.published_years():
        published = holidays.published(year)
        for kind, days in (("holiday", published["holidays"]), ("workday", published["workdays"])):
            for day, name in days:
                if day not in known:
                    session.add(CalendarDay(day=day, kind=kind, name=name))
                    known.add(day)
    session.flush()


def short_name(customer):
    """苏州恒达精密机械有限公司 -> 恒达精密: what colleagues call a customer."""
    if customer.kind == "person":
        return customer.name
    name = customer.name
    for form in LEGAL_FORMS:
        name = name.removesuffix(form)
    name = name.split("（")[0]
    places = sorted(
        [*CITY_CODES, *(province for provinces in TERRITORIES.values() for province in provinces)],
        key=len,
        reverse=True,
    )
    for place in places:
        for prefix in (place + "市", place + "省", place):
            if name.startswith(prefix) and len(name) > len(prefix) + 1:
                name = name[len(prefix) :]
                break
    return name[:4]


class _Desk:
    def __init__(self, lead):
        self.rng = random.Random(SEED)
        self.lead = lead
        self.now = clock.now()
        self.calendar = levels.calendar_for(None)
        self.zone = ZoneInfo(self.calendar.timezone)
        self.origin = self._origin()
        self.width = working_minutes_between(self.calendar, self.origin, self.now)
        self.types = {t.name: t for t in db.session.scalars(select(RequestType))}
        self.managers = {
            user.team_id: user
            for user in db.session.scalars(
                select(User).where(User.role == Role.MANAGER, User.email.like(f"%@{DOMAIN}"))
            )
        }
        self.used_customers = set()
        self.steps = []  # (instant, order, action)
        self.requests = {}  # story number -> request id

    def _origin(self):
        """The opening of the working day HISTORY_DAYS working days before today."""
        day, counted = self.now.astimezone(self.zone).date(), 0
        while counted < HISTORY_DAYS:
            day -= timedelta(days=1)
            counted += is_working_day(self.calendar, day)
        return datetime.combine(day, self.calendar.day_start, tzinfo=self.zone)

    def at(self, index):
        """The instant `index` working minutes into the demo's weeks."""
        return add_working_minutes(self.calendar, self.origin, index)

    # ---- planning ------------------------------------------------------------------

    def run(self):
        endings = [ending for ending, count in ENDINGS.items() for _ in range(count)]
        types = [name for name, count in TYPE_COUNTS.items() for _ in range(count)]
        self.rng.shuffle(endings)
        self.rng.shuffle(types)
        ratings = [rating for rating, count in RATINGS.items() for _ in range(count)]
        self.rng.shuffle(ratings)
        for number, (ending, type_name) in enumerate(zip(endings, types, strict=True)):
            request_type = self.types.get(type_name)
            if request_type is not None and not request_type.retired:  # an admin may have changed them
                self.plan(number, ending, request_type, ratings)
        for instant, _order, action in sorted(self.steps, key=lambda step: step[:2]):
            self.jobs_until(instant)
            with clock.at(instant):
                action()
        self.jobs_until(self.now)
        # Older notifications have been seen; the last two days' stay unread.
        db.session.execute(
            update(Notification)
            .where(
                Notification.kind.like("support.%") | (Notification.kind == "points.support_rated"),
                Notification.created_at < self.now - timedelta(days=2),
                Notification.read_at.is_(None),
            )
            .values(read_at=Notification.created_at)
        )

    def plan(self, number, ending, request_type, ratings):
        """The steps of one request, each at its index (working minutes from the start)."""
        rng = self.rng
        urgent = ending in ("closed", "resolved", "new") and rng.random() < 0.18

        def gap(low, high):
            # Urgent requests move faster: their resolution time is 4 working hours.
            return rng.randint(low, high // 4) if urgent else rng.randint(low, high)

        steps = [(0, "file")]
        if ending == "new_assigned":
            steps += [(rng.randint(5, 60), "assign"), (rng.randint(1, 5), "lead_note")]
        # Half the cancelled ones were cancelled before anyone accepted them.
        accepted = ending not in ("new", "new_assigned") and (ending != "cancelled" or rng.random() < 0.5)
        if accepted:
            steps.append((rng.randint(560, 700) if ending == "closed_late" else gap(15, 240), "accept"))
            if ending == "overdue" or rng.random() < 0.15:
                steps.append((gap(5, 90), "manager_note"))
            if rng.random() < 0.5:
                steps.append((gap(5, 60), "note"))
            if not urgent and ending not in ("reopened", "cancelled") and rng.random() < 0.4:
                steps += [(rng.randint(10, 120), "ask"), (rng.randint(10, 150), "answer")]
            if ending == "returned":
                steps.append((rng.randint(30, 240), "send_back"))
            elif ending in ("closed", "auto_closed", "resolved") and not urgent and rng.random() < 0.25:
                steps += [(rng.randint(30, 240), "send_back"), (rng.randint(60, 480), "supplement")]
        if ending in ("closed", "closed_late", "reopened", "auto_closed", "resolved"):
            steps.append((gap(60, 400), "resolve"))
        if ending == "reopened":
            steps += [(rng.randint(30, 300), "reopen"), (rng.randint(60, 300), "resolve")]
        if ending in ("closed", "closed_late", "reopened"):
            rating = 3 if ending == "closed_late" else ratings.pop() if ratings else 4
            steps.append((rng.randint(20, 900), ("confirm", rating)))
        if ending == "cancelled":
            steps.append((rng.randint(30, 600), "cancel"))

        total = sum(minutes for minutes, _action in steps)
        latest = self.width - total - 5
        first = {
            "new": latest - rng.randint(0, 90 if urgent else 400),
            "new_assigned": latest - rng.randint(0, 300),
            "in_progress": latest - rng.randint(0, 120),
            "returned": latest - rng.randint(30, 900),
            "resolved": latest - rng.randint(5, 1200),
            "overdue": self.width - rng.randint(1300, 1700),
            "auto_closed": rng.randint(0, max(latest - 3 * self.calendar.minutes_per_day - 60, 0)),
        }.get(ending, rng.randint(0, max(latest, 0)))
        first = max(first, 0)
        filed_at = self.at(first)
        if ending in ("closed", "auto_closed", "cancelled") and rng.random() < 0.2:
            # Written the evening before: its clocks start at the next opening.
            day = filed_at.astimezone(self.zone).date()
            opening = datetime.combine(day, self.calendar.day_start, self.zone)
            first -= working_minutes_between(self.calendar, opening, filed_at)
            filed_at = opening - timedelta(hours=rng.randint(11, 14), minutes=rng.randint(0, 59))
        story = self.story(number, request_type, urgent, filed_at)
        if story is None:
            return
        index = first
        for order, (minutes, action) in enumerate(steps):
            index += minutes
            instant = filed_at if order == 0 else self.at(index)
            self.steps.append((instant, (number, order), self.action(story, action)))

    def story(self, number, request_type, urgent, filed_at):
        """The request's words, customer and requester, as of its filing."""
        rng = self.rng
        customer = self.customer(request_type.name, filed_at)
        if customer is None:
            return None
        words = rng.choice(WORDS["types"][request_type.name])
        title, details = words["title"], words["details"]
        local = filed_at.astimezone(self.zone).date()
        needed_by = local + timedelta(days=0 if urgent else rng.randint(2, 6))
        while not is_working_day(self.calendar, needed_by):
            needed_by += timedelta(days=1)
        values = self.values(customer, needed_by, local)
        details = details.format(**values)
        if urgent:
            details += "\n\n" + rng.choice(WORDS["urgent_lines"])
        return {
            "number": number,
            "type": request_type,
            "customer": customer,
            "requester": customer.owner,
            "title": title.format(**values)[:120],
            "details": details,
            "needed_by": needed_by,
            "priority": Priority.URGENT if urgent else Priority.NORMAL,
            "filed_at": filed_at,
            "values": values,
            "words": words,
        }

    def customer(self, type_name, filed_at):
        """A customer of a demo seller, at a stage that fits the type, known at `filed_at`."""
        candidates = db.session.scalars(
            select(Customer)
            .join(User, User.id == Customer.owner_id)
            .where(
                Customer.deleted_at.is_(None),
                Customer.stage.in_(TYPE_STAGES[type_name]),
                Customer.created_at < filed_at,
                User.created_at < filed_at,
                User.active.is_(True),
                User.role.in_((Role.REP, Role.MANAGER)),
                User.email.like(f"%@{DOMAIN}"),
            )
            .order_by(Customer.id)
        ).all()
        fresh = [customer for customer in candidates if customer.id not in self.used_customers]
        if not fresh:
            return None
        customer = self.rng.choice(fresh)
        self.used_customers.add(customer.id)
        return customer

    def values(self, customer, needed_by, filed_on):
        rng = self.rng
        sector = SECTORS.get(customer.industry) or SECTORS["其他"]
        contact = db.session.scalar(
            select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.id).limit(1)
        )
        amount = customer.expected_amount or Decimal(rng.choice([68_000, 128_000, 260_000]))
        needs = rng.sample(sector.needs, 2)
        ordered = filed_on - timedelta(days=rng.randint(5, 30))
        return {
            "customer": customer.name,
            "brand": short_name(customer),
            "industry": customer.industry or "其他行业",
            "stage": WORDS["stages"].get(customer.stage, ""),
            "amount": _wan(amount),
            "contact": f"{contact.title}{contact.name}" if contact else "对方负责人",
            "product": sector.product,
            "short": sector.short,
            "need1": needs[0],
            "need2": needs[1],
            "module": rng.choice(sector.modules),
            "pain": sector.pain,
            "unit": sector.unit,
            "objects": sector.objects,
            "seats": rng.choice([20, 30, 50, 80, 120, 200]),
            "competitor": rng.choice(WORDS["competitors"]),
            "system": rng.choice(WORDS["systems"]),
            "due": f"{needed_by.month}月{needed_by.day}日（周{'一二三四五六日'[needed_by.weekday()]}）",
            "order": f"SO{ordered:%Y%m%d}{rng.randint(10, 99)}",
            "ordered": f"{ordered.month}月{ordered.day}日",
            "requester": customer.owner.display_name,
        }

    # ---- doing -----------------------------------------------------------------------

    def action(self, story, action):
        """The step as a function run at its moment."""

        def run():
            kind, *args = action if isinstance(action, tuple) else (action,)
            if kind == "file":
                draft = requests.Draft(
                    type_id=story["type"].id,
                    customer_id=story["customer"].id,
                    title=story["title"],
                    details=story["details"],
                    needed_by=story["needed_by"],
                    priority=story["priority"],
                )
                self.requests[story["number"]] = requests.file_request(story["requester"], draft).id
                return
            request = db.session.get(Request, self.requests.get(story["number"]))
            if request is not None:
                getattr(self, f"do_{kind}")(story, request, *args)

        return run

    def fill(self, story, request, line):
        handler = request.handler.display_name if request.handler else self.lead.display_name
        return line.format(**story["values"], handler=handler)

    def pick(self, story, request, key):
        return self.fill(story, request, self.rng.choice(WORDS[key]))

    def do_accept(self, story, request):
        lifecycle.accept(request.handler or self.lead, request.id)

    def do_assign(self, story, request):
        others = db.session.scalars(
            select(User)
            .where(User.role == Role.SUPPORT, User.active.is_(True), User.id != request.handler_id)
            .order_by(User.id)
        ).all()
        if others:
            lifecycle.assign(self.lead, request.id, self.rng.choice(others).id)

    def do_lead_note(self, story, request):
        lifecycle.reply(self.lead, request.id, self.pick(story, request, "lead_notes"), internal=True)

    def do_manager_note(self, story, request):
        manager = self.managers.get(story["requester"].team_id)
        if manager is not None and manager.id != story["requester"].id:
            body = self.pick(story, request, "manager_notes")
            lifecycle.reply(manager, request.id, body, internal=True)

    def do_note(self, story, request):
        body = self.fill(story, request, story["words"]["note"])
        lifecycle.reply(request.handler, request.id, body, internal=True)

    def do_ask(self, story, request):
        if "ask" in story["words"]:
            body = self.fill(story, request, story["words"]["ask"][0])
            lifecycle.reply(request.handler, request.id, body)

    def do_answer(self, story, request):
        if "ask" in story["words"]:
            body = self.fill(story, request, story["words"]["ask"][1])
            lifecycle.reply(story["requester"], request.id, body)

    def do_send_back(self, story, request):
        body = self.fill(story, request, story["words"]["back"][0])
        lifecycle.send_back(request.handler, request.id, body)

    def do_supplement(self, story, request):
        body = self.fill(story, request, story["words"]["back"][1])
        lifecycle.reply(story["requester"], request.id, body)

    def do_resolve(self, story, request):
        reopened = request.resolved_at is not None
        line = self.rng.choice(WORDS["second_resolutions"]) if reopened else story["words"]["resolution"]
        lifecycle.resolve(request.handler, request.id, self.fill(story, request, line))

    def do_reopen(self, story, request):
        lifecycle.reopen(story["requester"], request.id, self.pick(story, request, "reopen_reasons"))

    def do_confirm(self, story, request, rating):
        comment = self.rng.choice(WORDS["rating_comments"][str(rating)])
        lifecycle.confirm(story["requester"], request.id, rating, comment)

    def do_cancel(self, story, request):
        lifecycle.cancel(story["requester"], request.id, self.pick(story, request, "cancel_reasons"))

    # ---- what the periodic jobs did meanwhile ------------------------------------------

    def jobs_until(self, moment):
        """Close the requests nobody rated in time, each at its instant, and record the
        warnings and breaches due by `moment` as the minute job would."""
        while True:
            closing = db.session.scalar(
                select(func.min(Request.auto_close_at)).where(
                    Request.status == Status.RESOLVED, Request.auto_close_at <= moment
                )
            )
            if closing is None:
                break
            with clock.at(closing):
                lifecycle.close_unrated(closing)
        with clock.at(moment):
            breaches.check_levels(moment)

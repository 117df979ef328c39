"""The weekly report (每周协作报告): every Monday from 08:30 in the team's zone each active
manager gets last week's (Monday to Sunday, local) summary of their team — targets
progress for the current month, the week's top collaborators, overdue follow-ups now,
the week's service-level breaches, new customers and deals won. A manager without a
team gets the whole company's.

A periodic job makes it. It is due from Monday 08:30 until the week is over, so a
server that was down on Monday sends it when it is back. Once per manager and week: the
`weekly_reports` row (primary key manager + week) is inserted with ON CONFLICT DO
NOTHING, and only the process whose insert won notifies, in the same transaction; the
notifications outbox e-mails it when mail is on.

The row keeps the figures as they were when it was made: the page shows that snapshot,
not today's figures for last week."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock, signals
from ..auth.models import DEFAULT_TIMEZONE, Role, Team, User
from ..database import is_id, write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..i18n import money
from ..jobs import periodic
from ..ledger.models import Customer
from ..notifications import link, notify, register_kinds
from ..recognition import summaries
from ..support.models import Request
from ..web import render
from . import bp, measures, pace, periods, targets
from .models import Measure, WeeklyReport

KIND = "performance.weekly_report"
# Sent from 08:30 on Monday in the team's zone (the morning digest goes at 08:00).
SEND_FROM = time(8, 30)
INTERVAL = timedelta(minutes=5)
TOP_COLLABORATORS = 5
LIST_LIMIT = 10
# The figures' layout; a page reading an older one can tell.
VERSION = 1


def _message(params):
    week = format_date(date.fromisoformat(params["week"]), "long")
    return _(
        "Weekly report for the week of %(week)s: deals won %(won_count)s (%(won_amount)s), "
        "new customers %(new_customers)s, service-level breaches %(breaches)s",
        week=week,
        won_count=params["won_count"],
        won_amount=money(Decimal(params["won_amount"])),
        new_customers=params["new_customers"],
        breaches=params["breaches"],
    )


register_kinds({KIND: _message})


# ---- the week and its people ---------------------------------------------------------


def due_week(zone_name, now):
    """The Monday of the week whose report is due at `now` in the zone (last week's),
    or None on a Monday before 08:30."""
    local = now.astimezone(ZoneInfo(zone_name))
    monday, _next = periods.week_of(local.date())
    if local.date() == monday and local.time() < SEND_FROM:
        return None
    return monday - timedelta(days=7)


def week_bounds(week_start, zone_name):
    zone = ZoneInfo(zone_name)
    start = datetime.combine(week_start, time(), tzinfo=zone)
    return start, datetime.combine(week_start + timedelta(days=7), time(), tzinfo=zone)


@dataclass
class Scope:
    """Whose figures: a team's, or the company's (team None)."""

    team: Team | None

    @property
    def zone(self):
        return self.team.timezone if self.team is not None else DEFAULT_TIMEZONE

    def members(self):
        """Everyone in it, deactivated people too: last week's work was theirs."""
        query = select(User)
        if self.team is not None:
            query = query.where(User.team_id == self.team.id)
        return db.session.scalars(query.order_by(User.id)).all()


# ---- the figures ---------------------------------------------------------------------


def _number(value):
    """A figure as JSON keeps it exactly: money as a string, counts as ints."""
    return str(value) if isinstance(value, Decimal) else value


def _standing_json(standing):
    result = {}
    for measure in Measure:
        figure = standing.paces[measure]
        result[measure.value] = {
            "target": None if figure.target is None else _number(standing.targets[measure]),
            "actual": _number(standing.figures[measure]),
            "percent": figure.percent,
            "status": figure.status,
        }
    return result


def _targets_figures(scope, members, today):
    """This month's targets and progress of the scope's active reps and managers."""
    period = periods.current(periods.MONTH, today)
    people = [user for user in members if user.active and user.role in Role.SELLERS]
    if scope.team is None:
        people = [user for user in people if user.team_id is not None]
    standings = targets.standings(people, period, today=today)
    if scope.team is not None:
        total = targets.team_standing(scope.team, standings, period, today=today)
    else:
        total = targets.company_standing(standings, period, today=today)
    rows = sorted(
        people,
        key=lambda user: (-standings[user.id].figures[Measure.WON_AMOUNT], user.display_name, user.id),
    )
    return {
        "period": period.key,
        "people": [
            {"user_id": user.id, "name": user.display_name, "measures": _standing_json(standings[user.id])}
            for user in rows
        ],
        "total": _standing_json(total),
    }


def _collaborators(names, start, end):
    """The week's top collaborators: points received (reversals included), the one who
    got there first ahead on a tie."""
    sums = summaries.sums(db.session, start, end)
    far_future = datetime.max.replace(tzinfo=start.tzinfo)
    ranked = sorted(
        ((user_id, points, reached) for user_id, (points, reached) in sums.items() if user_id in names),
        key=lambda row: (-row[1], row[2] or far_future, row[0]),
    )
    return [
        {"user_id": user_id, "name": names[user_id], "points": points}
        for user_id, points, _reached in ranked[:TOP_COLLABORATORS]
        if points > 0
    ]


def _overdue(scope, names, today):
    """Overdue follow-ups now, per owner (as the manager home counts them)."""
    query = (
        select(Customer.owner_id, func.count())
        .where(Customer.deleted_at.is_(None), ~Customer.in_pool, Customer.next_follow_up_on < today)
        .group_by(Customer.owner_id)
        .order_by(func.count().desc(), Customer.owner_id)
    )
    if scope.team is not None:
        query = query.where(Customer.team_id == scope.team.id)
    rows = db.session.execute(query).all()
    return {
        "total": sum(count for _owner, count in rows),
        "people": [
            {"user_id": owner_id, "name": names.get(owner_id) or _owner_name(owner_id), "count": count}
            for owner_id, count in rows[:LIST_LIMIT]
        ],
    }


def _owner_name(user_id):
    user = db.session.get(User, user_id)
    return user.display_name if user else ""


def _breaches(scope, member_ids, start, end):
    """Service-level breaches recorded in the week, for requests in the team's queue or
    filed by its people: each late first response and each late resolution counts."""

    def within(column):
        return and_(column >= start, column < end)

    query = select(Request).where(
        or_(within(Request.response_breached_at), within(Request.resolution_breached_at))
    )
    if scope.team is not None:
        query = query.where(or_(Request.team_id == scope.team.id, Request.requester_id.in_(member_ids)))
    found = []
    for support_request in db.session.scalars(query):
        clocks = [
            name
            for name, moment in (
                ("response", support_request.response_breached_at),
                ("resolution", support_request.resolution_breached_at),
            )
            if moment is not None and start <= moment < end
        ]
        latest = max(
            moment
            for moment in (support_request.response_breached_at, support_request.resolution_breached_at)
            if moment is not None and start <= moment < end
        )
        found.append((latest, support_request.id, support_request.title, clocks))
    found.sort(reverse=True)
    return {
        "count": sum(len(clocks) for *_rest, clocks in found),
        "requests": [
            {"id": request_id, "title": title, "clocks": clocks, "at": latest.isoformat()}
            for latest, request_id, title, clocks in found[:LIST_LIMIT]
        ],
        "request_count": len(found),
    }


def _new_customers(names, member_ids, start, end):
    new = measures.new_customers(start, end, member_ids).subquery()
    per_person = db.session.execute(
        select(new.c.user_id, func.count(distinct(new.c.customer_id)))
        .group_by(new.c.user_id)
        .order_by(func.count(distinct(new.c.customer_id)).desc(), new.c.user_id)
    ).all()
    total = db.session.scalar(select(func.count(distinct(new.c.customer_id))))
    return {
        "count": total or 0,
        "people": [
            {"user_id": user_id, "name": names[user_id], "count": count} for user_id, count in per_person
        ],
    }


def _won(scope, names, member_ids, start, end):
    wins = measures.standing_wins(start, end, member_ids if scope.team is not None else None).subquery()
    count, amount = db.session.execute(select(func.count(), func.sum(wins.c.amount))).one()
    deals = db.session.execute(
        select(wins.c.owner_id, wins.c.customer_id, wins.c.amount, wins.c.at, Customer.name)
        .join(Customer, Customer.id == wins.c.customer_id)
        .order_by(wins.c.amount.desc(), wins.c.at)
        .limit(LIST_LIMIT)
    ).all()
    return {
        "count": count,
        "amount": str(amount if amount is not None else Decimal("0.00")),
        "deals": [
            {
                "customer_id": customer_id,
                "customer": name,
                "owner_id": owner_id,
                "owner": (names.get(owner_id) or _owner_name(owner_id)) if owner_id else "",
                "amount": str(deal_amount),
                "at": at.isoformat(),
            }
            for owner_id, customer_id, deal_amount, at, name in deals
        ],
    }


def build_figures(team, week_start, now):
    """The report's figures for `team` (None: the company) and the week starting on
    `week_start`, as JSON-ready values."""
    scope = Scope(team)
    start, end = week_bounds(week_start, scope.zone)
    today = now.astimezone(ZoneInfo(scope.zone)).date()
    members = scope.members()
    names = {user.id: user.display_name for user in members}
    member_ids = sorted(names)
    return {
        "version": VERSION,
        "team": {"id": team.id, "name": team.name} if team is not None else None,
        "zone": scope.zone,
        "week_start": week_start.isoformat(),
        "made_on": today.isoformat(),
        "targets": _targets_figures(scope, members, today),
        "collaborators": _collaborators(names, start, end),
        "overdue": _overdue(scope, names, today),
        "breaches": _breaches(scope, member_ids, start, end),
        "new_customers": _new_customers(names, member_ids, start, end),
        "won": _won(scope, names, member_ids, start, end),
    }


# ---- the job -------------------------------------------------------------------------


def _pending(now):
    """{(team_id or None, week_start): [manager ids]} of reports due and not yet made."""
    managers = db.session.execute(
        select(User.id, User.team_id).where(User.role == Role.MANAGER, User.active.is_(True))
    ).all()
    if not managers:
        return {}
    zones = dict(
        db.session.execute(
            select(Team.id, Team.timezone).where(Team.id.in_({t for _m, t in managers if t is not None}))
        ).all()
    )
    due = {}
    for manager_id, team_id in managers:
        week_start = due_week(zones.get(team_id) or DEFAULT_TIMEZONE, now)
        if week_start is not None:
            due[manager_id] = (team_id, week_start)
    if not due:
        return {}
    made = set(
        db.session.execute(
            select(WeeklyReport.manager_id, WeeklyReport.week_start).where(
                WeeklyReport.manager_id.in_(due), WeeklyReport.week_start.in_({w for _t, w in due.values()})
            )
        ).all()
    )
    pending = {}
    for manager_id, (team_id, week_start) in due.items():
        if (manager_id, week_start) not in made:
            pending.setdefault((team_id, week_start), []).append(manager_id)
    return pending


def _insert_reports(session, manager_ids, team_id, week_start, figures, now):
    """Insert the reports' rows; the managers whose row this call inserted."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return session.scalars(
        module.insert(WeeklyReport)
        .values(
            [
                {
                    "manager_id": manager_id,
                    "week_start": week_start,
                    "team_id": team_id,
                    "figures": figures,
                    "created_at": now,
                }
                for manager_id in manager_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["manager_id", "week_start"])
        .returning(WeeklyReport.manager_id)
    ).all()


def send_weekly_reports(now=None):
    """Make and announce every weekly report due at `now`; returns how many this call
    sent (a report another process made first is not counted)."""
    now = now or clock.now()
    sent = 0
    for (team_id, week_start), manager_ids in _pending(now).items():
        team = db.session.get(Team, team_id) if team_id is not None else None
        figures = build_figures(team, week_start, now)
        params = {
            "week": week_start.isoformat(),
            "won_count": figures["won"]["count"],
            "won_amount": figures["won"]["amount"],
            "new_customers": figures["new_customers"]["count"],
            "breaches": figures["breaches"]["count"],
        }
        with write_transaction() as session:
            made = _insert_reports(session, manager_ids, team_id, week_start, figures, now)
            for manager_id in sorted(made):
                notify(
                    manager_id,
                    KIND,
                    link=link("performance.weekly", week_start=week_start.isoformat()),
                    **params,
                )
                sent += 1
            if made:
                # The team's chat groups get it too (once per team and week: chat/events.py).
                signals.weekly_report_made.send(team, week_start=week_start, figures=figures)
    return sent


@periodic("performance-weekly-report", interval=INTERVAL)
def run_weekly_reports():
    return send_weekly_reports()


# ---- reading a report ----------------------------------------------------------------

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID = re.compile(r"[0-9]{1,10}")


def parse_week(text):
    """The Monday a report's address names; DomainError (400) otherwise."""
    try:
        day = date.fromisoformat(text) if _ISO_DATE.fullmatch(text or "") else None
    except ValueError:
        day = None
    if day is None:
        raise DomainError(_("Write the week as the date of its Monday, like 2026-03-02."))
    if day.weekday() != 0:
        raise DomainError(
            _("A weekly report starts on a Monday; %(day)s is not one.", day=format_date(day, "long"))
        )
    return day


def report_for(viewer, week_start, manager_text):
    """The report `viewer` asked for: a manager their own; an admin any manager's
    (`manager_text`, an id; None: the week's list). Others: 403."""
    if viewer.role == Role.ADMIN:
        if not manager_text:
            return None
        manager_id = int(manager_text) if _ID.fullmatch(manager_text) else None
    elif viewer.role == Role.MANAGER:
        if manager_text and manager_text != str(viewer.id):
            raise Forbidden(_("You may read only your own weekly reports."))
        manager_id = viewer.id
    else:
        raise Forbidden(_("Weekly reports are for managers and administrators."))
    report = db.session.get(WeeklyReport, (manager_id, week_start)) if is_id(manager_id) else None
    if report is None:
        raise NotFound(_("There is no weekly report for this week."))
    return report


def reports_of_week(week_start):
    """[(report, manager)] of the week, for the admin's list."""
    return db.session.execute(
        select(WeeklyReport, User)
        .join(User, User.id == WeeklyReport.manager_id)
        .where(WeeklyReport.week_start == week_start)
        .order_by(User.display_name, User.id)
    ).all()


def _exists(manager_id, week_start):
    return db.session.get(WeeklyReport, (manager_id, week_start)) is not None


@bp.get("/performance/weekly/<week_start>")
@login_required
def weekly(week_start):
    week = parse_week(week_start)
    manager_text = request.args.get("manager", "").strip()
    report = report_for(current_user, week, manager_text)
    previous_week, next_week = week - timedelta(days=7), week + timedelta(days=7)
    context = {"week": week, "week_end": week + timedelta(days=6), "report": report}
    if report is None:
        context["reports"] = reports_of_week(week)
    else:
        manager = db.session.get(User, report.manager_id)
        context.update(
            manager=manager,
            figures=report.figures,
            manager_arg=report.manager_id if current_user.role == Role.ADMIN else None,
            previous_week=previous_week if _exists(report.manager_id, previous_week) else None,
            next_week=next_week if _exists(report.manager_id, next_week) else None,
            measures=list(Measure),
            period_label=periods.parse(report.figures["targets"]["period"], week).label,
            status_labels=pace.STATUS_LABELS,
            amount=Decimal,
            moment=datetime.fromisoformat,
            clock_labels={"response": _l("First response"), "resolution": _l("Resolution")},
        )
    return render("performance/weekly.html", **context)

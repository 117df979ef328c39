"""What the chat groups are told: each event another feature announces (signals.py)
becomes a message in the outbox of every connection that wants it: the connections of
the event's team and the company-wide ones. Written in the group's language, in the
event's own transaction, with a link back when the app knows its address.

Nothing a member of the group should not see: no contact's phone, e-mail or WeChat id,
no request details or internal notes, no reason typed into a collision report."""

from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from .. import signals
from ..auth.models import User
from ..extensions import db
from ..i18n import money
from ..ledger.models import Collaborator, CollaboratorStatus
from ..notifications import link
from . import outbox
from .models import Connection, Event
from .robots import Message

EVERY_TEAM = object()  # a company-wide event (the 协作之星): every connection that wants it


def _connections(session, event, team_ids):
    query = select(Connection).where(Connection.enabled.is_(True)).order_by(Connection.id)
    if team_ids is not EVERY_TEAM:
        query = query.where(or_(Connection.team_id.is_(None), Connection.team_id.in_(team_ids)))
    return [connection for connection in session.scalars(query) if connection.receives(event)]


def announce(event, team_ids, build, dedupe_key=None):
    """Add build() (a Message, made in each group's language) to the outbox of every
    connection of `team_ids` (and the company's) that receives `event`."""
    session = db.session()
    for connection in _connections(session, event, team_ids):
        with force_locale(connection.locale):
            message = build()
        outbox.add(session, connection, message, dedupe_key)


def app_link(endpoint, **values):
    """The page's full address, or None when the app does not know its own (no
    SALESDESK_BASE_URL): a path alone is no link in a chat group."""
    base = current_app.config["BASE_URL"]
    return base.rstrip("/") + link(endpoint, **values) if base else None


def _owner_name(owner):
    return owner.display_name if owner is not None else _("nobody (the pool)")


def _teams(*team_ids):
    return sorted({team_id for team_id in team_ids if team_id is not None})


@signals.customer_won.connect
def _deal_won(customer, actor=None, **_ignored):
    owner = customer.owner
    collaborators = db.session.scalars(
        select(User.display_name)
        .join(Collaborator, Collaborator.user_id == User.id)
        .where(Collaborator.customer_id == customer.id, Collaborator.status == CollaboratorStatus.ACTIVE)
        .order_by(User.display_name)
    ).all()
    amount = customer.expected_amount or Decimal("0.00")

    def build():
        lines = [
            _("Customer: %(name)s", name=customer.name),
            _("Amount: %(amount)s", amount=money(amount)),
            _("Owner: %(name)s", name=_owner_name(owner)),
        ]
        if collaborators:
            lines.append(_("Together with: %(names)s", names=_("、").join(collaborators)))
        return Message(
            event=Event.DEAL_WON,
            title=_("🎉 Deal won: %(customer)s", customer=customer.name),
            lines=lines,
            link=app_link("ledger.show", customer_id=customer.id),
            link_label=_("Open the customer"),
            data={
                "customer_id": customer.id,
                "customer": customer.name,
                "amount": str(amount),
                "owner": owner.display_name if owner else None,
                "collaborators": collaborators,
            },
        )

    announce(Event.DEAL_WON, _teams(customer.team_id, owner.team_id if owner else None), build)


@signals.stars_awarded.connect
def _stars(month, winners=(), **_ignored):
    ranked = [(user.display_name, rank, points) for user, rank, points in winners]

    def build():
        return Message(
            event=Event.STARS,
            title=_("Collaboration Stars of %(month)s", month=f"{month:%Y-%m}"),
            lines=[
                _("No. %(rank)s %(name)s: %(points)s points", rank=rank, name=name, points=points)
                for name, rank, points in ranked
            ],
            link=app_link("recognition.leaderboard"),
            link_label=_("Open the leaderboard"),
            data={
                "month": f"{month:%Y-%m}",
                "winners": [{"name": name, "rank": rank, "points": points} for name, rank, points in ranked],
            },
        )

    announce(Event.STARS, EVERY_TEAM, build, dedupe_key=f"stars:{month:%Y-%m}")


def _request_lines(request):
    lines = [
        _("Filed by: %(name)s", name=request.requester.display_name),
        _("Type: %(type)s", type=request.type.name),
    ]
    if request.handler is not None:
        lines.append(_("Handler: %(name)s", name=request.handler.display_name))
    if request.needed_by is not None:
        lines.append(_("Needed by: %(date)s", date=request.needed_by.isoformat()))
    return lines


def _request_data(request):
    return {
        "request_id": request.id,
        "title": request.title,
        "type": request.type.name,
        "priority": request.priority,
        "requester": request.requester.display_name,
        "handler": request.handler.display_name if request.handler else None,
    }


@signals.support_filed.connect
def _urgent_request(request, **_ignored):
    if request.priority != "urgent":
        return

    def build():
        return Message(
            event=Event.URGENT_REQUEST,
            title=_("Urgent support request: %(title)s", title=request.title),
            lines=_request_lines(request),
            link=app_link("support.show", request_id=request.id),
            link_label=_("Open the request"),
            data=_request_data(request),
        )

    announce(Event.URGENT_REQUEST, _teams(request.team_id, request.requester.team_id), build)


@signals.support_breached.connect
def _breach(request, clock, **_ignored):
    def build():
        what = _("first response") if clock == "response" else _("resolution")
        return Message(
            event=Event.BREACH,
            title=_("Service level breached (%(what)s): %(title)s", what=what, title=request.title),
            lines=_request_lines(request),
            link=app_link("support.show", request_id=request.id),
            link_label=_("Open the request"),
            data=_request_data(request) | {"clock": clock},
        )

    announce(
        Event.BREACH,
        _teams(request.team_id, request.requester.team_id),
        build,
        dedupe_key=f"breach:{request.id}:{clock}",
    )


@signals.collision_filed.connect
def _collision(report, customer, **_ignored):
    def build():
        return Message(
            event=Event.COLLISION,
            title=_("Collision filed: %(customer)s", customer=customer.name),
            lines=[
                _("Filed by: %(name)s", name=report.reporter.display_name),
                _("Owner: %(name)s", name=_owner_name(report.owner)),
            ],
            link=app_link("rules.collision", report_id=report.id),
            link_label=_("Open the report"),
            data={
                "report_id": report.id,
                "customer": customer.name,
                "reporter": report.reporter.display_name,
                "owner": report.owner.display_name if report.owner else None,
            },
        )

    announce(Event.COLLISION, _teams(report.team_id), build)


@signals.weekly_report_made.connect
def _weekly_report(team, week_start, figures, **_ignored):
    def build():
        won = figures["won"]
        lines = [
            _("Deals won: %(count)s, %(amount)s", count=won["count"], amount=money(Decimal(won["amount"]))),
            _("New customers: %(count)s", count=figures["new_customers"]["count"]),
            _("Overdue follow-ups: %(count)s", count=figures["overdue"]["total"]),
            _("Service-level breaches: %(count)s", count=figures["breaches"]["count"]),
        ]
        top = [person["name"] for person in figures["collaborators"][:3]]
        if top:
            lines.append(_("Top collaborators: %(names)s", names=_("、").join(top)))
        scope = team.name if team is not None else _("The whole company")
        return Message(
            event=Event.WEEKLY_REPORT,
            title=_("Weekly report of %(scope)s, week of %(week)s", scope=scope, week=week_start.isoformat()),
            lines=lines,
            link=app_link("performance.weekly", week_start=week_start.isoformat()),
            link_label=_("Open the report"),
            data={"team": team.name if team is not None else None, "week_start": week_start.isoformat()}
            | {key: figures[key] for key in ("won", "new_customers", "breaches")},
        )

    team_ids = _teams(team.id) if team is not None else []
    announce(
        Event.WEEKLY_REPORT,
        team_ids,
        build,
        dedupe_key=f"weekly:{team.id if team is not None else 'company'}:{week_start.isoformat()}",
    )

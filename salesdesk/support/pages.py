"""What the desk's pages show, built here so that views stay thin and templates get
facts and booleans: the new-request form's choices, a request's page (its timeline,
files, the customer's facts for the handler and the steps this viewer may take), and
due times in words."""

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import clock
from ..extensions import db
from ..forms import choices
from ..kb.markdown import render as render_markdown
from ..ledger import access as ledger_access
from ..ledger.models import Customer, FollowUp
from . import access, attachments, levels, requests
from .breaches import CLOCK_LABELS
from .forms import AssignForm, ConfirmForm, ReplyForm, message_form
from .models import EVENT_LABELS, Event, EventKind

# The requester's customers offered on the form, most recently changed first.
CUSTOMERS_OFFERED = 200
FOLLOW_UPS_SHOWN = 3
LONG_OVERDUE = timedelta(days=7)


def offer_choices(form, user, customer_id=None):
    types = requests.active_types()
    form.type_id.choices = choices([(0, _("Choose a type"))] + [(kind.id, kind.name) for kind in types])
    visible = ledger_access.details_visible_clause(user)
    customers = db.session.execute(
        select(Customer.id, Customer.name)
        .where(Customer.deleted_at.is_(None), visible)
        .order_by(Customer.updated_at.desc())
        .limit(CUSTOMERS_OFFERED)
    ).all()
    offered = [(str(row.id), row.name) for row in customers]
    if customer_id and str(customer_id) not in dict(offered):
        try:
            customer = requests.linkable_customer(user, customer_id)
        except Exception:  # noqa: BLE001 - an unknown or hidden customer is just not offered
            customer = None
        if customer is not None:
            offered.insert(0, (str(customer.id), customer.name))
    form.customer_id.choices = choices([("", _("No customer"))] + offered)
    if customer_id and not form.is_submitted() and str(customer_id) in dict(offered):
        form.customer_id.data = customer_id


def prefill(form, type_id=None):
    """A new form starts with the chosen (or first) type's questions in the details."""
    types = requests.active_types()
    chosen = next((kind for kind in types if kind.id == type_id), None)
    if chosen is not None:
        form.type_id.data = chosen.id
        form.details.data = requests.template_of(chosen)


def type_templates():
    """Each type's questions, for the form's script to fill the details when the type
    changes (without JavaScript the type's link does it: ?type=<id>)."""
    return [
        {"id": kind.id, "name": kind.name, "text": requests.template_of(kind)}
        for kind in requests.active_types()
    ]


def offer_handlers(form, support_request):
    handlers = db.session.scalars(access.handlers_for(support_request.team_id)).all()
    form.handler_id.choices = choices((user.id, user.display_name) for user in handlers)


@dataclass
class CustomerFacts:
    customer: Customer
    follow_ups: list


def customer_facts(user, support_request):
    """The customer's stage, amount, owner and last follow-ups, for those who may see
    its details (the handler side)."""
    customer = support_request.customer
    if (
        customer is None
        or customer.deleted_at is not None
        or not ledger_access.can_see_details(user, customer)
    ):
        return None
    follow_ups = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.customer_id == customer.id)
        .order_by(FollowUp.occurred_at.desc())
        .limit(FOLLOW_UPS_SHOWN)
        .options(joinedload(FollowUp.author))
    ).all()
    return CustomerFacts(customer, follow_ups)


def due_label(support_request, now, calendar):
    """'还剩 3 小时' / '已超时 20 分钟' / '已暂停' for the next due time."""
    due = support_request.next_due_at
    if due is not None and now - due > LONG_OVERDUE:
        # Weeks late: the days say enough, and counting working minutes over months
        # for every row would cost the list more than the rest of the page.
        return ngettext("Overdue by %(num)s day", "Overdue by %(num)s days", (now - due).days)
    remaining = levels.remaining_minutes(support_request, now, calendar)
    if remaining is None:
        return _("Paused") if support_request.is_open else ""
    if remaining < 0:
        return _("Overdue by %(time)s", time=working_time(-remaining))
    return _("%(time)s left", time=working_time(remaining))


def working_time(minutes):
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=rest)
    if hours:
        return _("%(hours)s h", hours=hours)
    return _("%(minutes)s min", minutes=rest)


def due_labels(items):
    """Due labels for a page of requests, one calendar per queue."""
    now, settings, calendars = clock.now(), levels.desk_settings(), {}
    labels = {}
    for item in items:
        if item.team_id not in calendars:
            calendars[item.team_id] = levels.calendar_for(item.team, settings)
        labels[item.id] = due_label(item, now, calendars[item.team_id])
    return labels


def request_context(user, support_request, **forms):
    now = clock.now()
    settings = levels.desk_settings()
    calendar = levels.calendar_for(support_request.team, settings)
    with_notes = access.may_see_notes(user, support_request)
    levels_of = support_request.type.levels(support_request.priority)
    events = db.session.scalars(
        select(Event)
        .where(Event.request_id == support_request.id)
        .order_by(Event.id)
        .options(joinedload(Event.actor))
    ).all()
    if not with_notes:
        events = [event for event in events if event.kind != EventKind.NOTE]
    files = attachments.of_request(support_request, with_notes)
    files_by_event = {}
    for item in files:
        files_by_event.setdefault(item.event_id, []).append(item)
    assign_form = forms.get("assign_form") or AssignForm(formdata=None)
    offer_handlers(assign_form, support_request)
    if support_request.handler_id:
        assign_form.handler_id.data = assign_form.handler_id.data or support_request.handler_id
    return {
        "item": support_request,
        "details_html": render_markdown(support_request.details),
        "events": events,
        "bodies": {event.id: render_markdown(event.body) for event in events if event.body},
        "files_by_event": files_by_event,
        "facts": customer_facts(user, support_request),
        "due": due_label(support_request, now, calendar),
        "level_texts": [working_time(minutes) for minutes in levels_of],
        "took_texts": [
            working_time(minutes) if minutes is not None else ""
            for minutes in (support_request.response_minutes, support_request.resolution_minutes)
        ],
        "event_labels": EVENT_LABELS,
        "clock_labels": CLOCK_LABELS,
        "can": {
            "accept": access.may_accept(user, support_request),
            # Only where someone can be chosen: a queue without support users has none.
            "assign": access.may_assign(user, support_request) and bool(assign_form.handler_id.choices),
            "reply": access.may_reply(user, support_request),
            "note": access.may_write_note(user, support_request),
            "return": access.may_return(user, support_request),
            "resolve": access.may_resolve(user, support_request),
            "confirm": access.may_confirm(user, support_request),
            "reopen": access.may_reopen(user, support_request, now, settings.reopen_days),
            "cancel": access.may_cancel(user, support_request),
            "delete": access.may_delete(user),
            "draft": access.may_draft_article(user, support_request),
        },
        "reply_form": forms.get("reply_form") or ReplyForm(formdata=None),
        "return_form": forms.get("return_form") or message_form("return", formdata=None),
        "resolve_form": forms.get("resolve_form") or message_form("resolve", formdata=None),
        "reopen_form": forms.get("reopen_form") or message_form("reopen", formdata=None),
        "cancel_form": forms.get("cancel_form") or message_form("cancel", formdata=None),
        "confirm_form": forms.get("confirm_form") or ConfirmForm(formdata=None),
        "assign_form": assign_form,
    }

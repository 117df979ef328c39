"""What the ledger's pages hand their templates: the customer lists and the customer
page, with the parts other features show on them (the rules' ownership card and bulk
assignment, the knowledge base's playbooks) built here, before rendering, by calling
those features' own modules. Templates only draw what they are given."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import clock, settings
from ..auth import services as accounts
from ..fields import forms as custom_forms
from ..fields import values as custom_values
from ..fields.definitions import all_fields
from ..forms import choices
from ..recognition import access as recognition
from ..web import render
from . import access, collaborators, columns, keys, queries
from .forms import CollaborationRequestForm, CollaboratorForm, CustomValuesForm, FollowUpForm, StageForm
from .models import GRADES, SOURCE_LABELS, STAGE_LABELS
from .timeline import timeline

GRADE_CHOICES = [(grade, grade) for grade in GRADES]
PROVINCE_CHOICES = [(province, province) for province in keys.PROVINCES]


def list_context(filters, list_endpoint=None, tags=False, **extra):
    """What the customer list templates need (the pool page uses them too).
    list_endpoint: the list's own page, when a refused POST draws it again; tags: the
    customers' tags are shown."""
    page = queries.list_customers(current_user, filters, tags=tags)
    now = clock.now()
    rules = settings.current()
    custom_filters = queries.filterable_fields(current_user, filters.custom_fields())
    owners = accounts.sellers()
    return {
        "page": page,
        "filters": filters,
        "list_endpoint": list_endpoint or request.endpoint,
        "owners": owners,
        # The filters' choices, as (value, label) pairs for forms.option_tags.
        "stage_choices": STAGE_LABELS.items(),
        "owner_choices": [(user.id, user.display_name) for user in owners],
        "team_choices": [(team.id, team.name) for team in accounts.teams()],
        "grade_choices": GRADE_CHOICES,
        "source_choices": SOURCE_LABELS.items(),
        "province_choices": PROVINCE_CHOICES,
        "page_sizes": queries.PAGE_SIZES,
        "can_export": access.can_export(current_user),
        "today": clock.today(current_user.timezone),
        "now": now,
        "countdowns": {customer.id: rules.countdown(customer.reclaim_at, now) for customer in page.items},
        "custom_filters": custom_filters,
        "field_users": accounts.everyone() if any(f.type == "user" for f in custom_filters) else [],
        **extra,
    }


VIEW_LABELS = {
    "mine": _l("Mine"),
    "collab": _l("Collaborating"),
    "team": _l("My team"),
    "all": _l("Everyone's"),
    "pool": _l("Public pool"),
}


def customers_context(filters, **extra):
    """The customer list: its view switcher, the user's columns as plain rows, and the
    rules' bulk assignment for those who assign."""
    from ..rules import assignment, panel  # here, not at the top: the rules import the ledger

    shown = columns.labelled(columns.chosen(current_user, filters.custom_fields()))
    context = list_context(filters, tags=columns.shows_tags(shown), **extra)
    shown_keys = {column.key for column in shown}
    context.update(
        views=[(view, VIEW_LABELS[view]) for view in queries.views_for(current_user)],
        columns=shown,
        column_choices=[
            (column, column.key in shown_keys) for column in columns.all_columns(filters.custom_fields())
        ],
        rows=columns.rows(context["page"], shown, context["today"], context["countdowns"]),
    )
    if "bulk_assign_form" not in extra:
        context["bulk_assign_form"] = panel.bulk_assign_form(current_user, context["owners"])
    context["max_assign"] = assignment.MAX_CUSTOMERS
    return context


def collidable(report):
    """Ids of the duplicates found that the user may file a collision report on."""
    from ..rules import panel

    if report is None:
        return set()
    return panel.collidable(current_user, [match.customer for match in report.blocking + report.similar])


def stage_form(customer):
    form = StageForm(formdata=None)
    form.stage.data, form.version.data = customer.stage, customer.version
    return form


def custom_values_form(customer, fields=None):
    """The inline edit of the custom fields, filled with the customer's values; fields:
    the active ones of customers, when the caller has read them."""
    form = custom_forms.form_for(CustomValuesForm, "customer", fields)(formdata=None)
    form.version.data = customer.version
    custom_forms.fill(form, customer.custom)
    return form


def collaborator_form(customer, **kwargs):
    form = CollaboratorForm(**kwargs)
    form.user_id.choices = choices(
        (user.id, f"{user.display_name} · {user.team.name if user.team else user.role_label}")
        for user in collaborators.collaborator_candidates(customer)
    )
    return form


def customer_context(customer, **forms):
    """The customer page. forms: inline forms refused by a POST, shown again with their
    errors (the ledger's and the rules' panel's, by name)."""
    from ..kb import playbooks  # here, not at the top: kb's models import the ledger
    from ..rules import panel
    from ..support import panel as support_panel

    visible = access.can_see_details(current_user, customer)
    every_field = all_fields()  # one read for the details, the contacts and the inline edit
    fields = {entity: [f for f in every_field if f.entity == entity] for entity in ("customer", "contact")}
    now = clock.now()
    context = {
        "customer": customer,
        "visible": visible,
        "contacts": access.contact_views(customer, visible, fields["contact"]),
        "custom_values": custom_values.shown("customer", customer.custom, visible, fields=fields["customer"]),
        "can_edit": access.can_edit(current_user, customer),
        "can_follow_up": access.can_log_follow_up(current_user, customer),
        "can_delete": access.can_delete(current_user, customer),
        "can_manage_collaborators": access.can_manage_collaborators(current_user, customer),
        "may_award_owner": customer.owner is not None
        and recognition.may_award_to(current_user, customer.owner),
        "collaborators": collaborators.collaborators_of(customer),
        "timeline": timeline(customer) if visible else [],
        "stage_form": forms.get("stage_form") or stage_form(customer),
        "follow_up_form": forms.get("follow_up_form") or FollowUpForm(formdata=None),
        "request_form": forms.get("request_form") or CollaborationRequestForm(formdata=None),
        "today": clock.today(current_user.timezone),
        "stages": STAGE_LABELS,
        "panel": panel.customer_panel(current_user, customer, now, **forms),
        "support_request_url": support_panel.request_url(current_user, customer),
        "playbooks": []
        if customer.stage_enum.is_closed
        else playbooks.playbooks_for_stage(customer.stage, current_user),
    }
    if context["can_edit"] and any(not item.retired for item in context["custom_values"]):
        active = [f for f in fields["customer"] if f.active]
        values_form = forms.get("custom_values_form") or custom_values_form(customer, active)
        context["custom_values_form"] = values_form
        context["custom_inputs"] = custom_forms.custom_inputs(values_form)
    if context["can_manage_collaborators"]:
        context["collaborator_form"] = forms.get("collaborator_form") or collaborator_form(
            customer, formdata=None
        )
    return context


def customer_page(customer, status=200, **forms):
    """The customer page; with refused inline forms, 422 and their errors and what was
    typed: without JavaScript there is nothing else to go back to."""
    return render("ledger/show.html", status=status, **customer_context(customer, **forms))

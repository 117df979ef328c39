"""The rules' parts of the ledger's pages, built by the page before it renders: the
customer page's ownership card and the list's bulk assignment. Everything the templates
show is read here, so rendering reads nothing from the database."""

from .. import settings
from . import access
from .extensions import extensions_of
from .forms import ExtensionForm, ReasonForm, assign_form


def customer_panel(user, customer, now, **forms):
    """What templates/rules/_customer_panel.html shows and offers about the pool, the
    protection period, extensions, assignment and collisions. forms: the panel's forms
    refused by a POST (reason_form, extension_form, decision_form, assign_form), shown
    again with their errors and what was typed."""
    extensions = extensions_of(customer) if access.may_see_extensions(user, customer) else []
    panel = {
        "in_pool": customer.in_pool,
        "countdown": settings.current().countdown(customer.reclaim_at, now),
        "can_claim": access.may_claim(user, customer),
        "can_release": access.may_release(user, customer),
        "can_request_extension": access.may_request_extension(user, customer, now),
        "extensions": extensions,
        "decidable_extensions": {
            extension.id for extension in extensions if access.may_decide_extension(user, extension)
        },
        "can_file_collision": access.may_file_collision(user, customer),
        "reason_form": forms.get("reason_form") or ReasonForm(formdata=None),
        "extension_form": forms.get("extension_form") or ExtensionForm(formdata=None),
        "decision_form": forms.get("decision_form"),
        "decided_extension": forms.get("decided_extension"),
        "assign_form": None,
    }
    if access.may_assign_customer(user, customer):
        panel["assign_form"] = forms.get("assign_form") or assign_form(user, formdata=None)
    return panel


def bulk_assign_form(user, sellers):
    """The customer list's "assign the selected customers" form, for those who assign."""
    return assign_form(user, sellers, formdata=None) if access.may_assign(user) else None


def collidable(user, customers):
    """Ids of the customers `user` may file a collision report on (duplicate warnings)."""
    return {customer.id for customer in customers if access.may_file_collision(user, customer)}

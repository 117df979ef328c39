from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock, submissions
from ..auth import roles_required
from ..auth.models import Role
from ..errors import DomainError
from ..extensions import db
from ..fields import forms as custom_forms
from ..forms import choices
from ..paging import page_number
from ..web import add_form_error, form_status, is_htmx, render, safe_next_url, see_other
from . import access, bp, collaborators, columns, contacts, customers, duplicates, followups, pages, queries
from .duplicates import DuplicateFound
from .forms import (
    INDUSTRIES,
    CollaborationRequestForm,
    ContactForm,
    CustomValuesForm,
    EditContactForm,
    EditCustomerForm,
    FollowUpForm,
    NewCustomerForm,
    StageForm,
)
from .locking import StaleEdit
from .ownership import AUTO, owner_choices
from .trash import delete_customer, deleted_by, deleted_page, restore_customer


@bp.route("/customers")
def index():
    filters = queries.Filters.from_args(request.args, current_user)
    return render("ledger/index.html", "ledger/_results.html", **pages.customers_context(filters))


@bp.route("/customers/columns", methods=["POST"])
def choose_columns():
    """列设置: the columns this user's list shows, kept on their account (any device)."""
    if "reset" in request.form:
        columns.reset(current_user)
    else:
        columns.choose(current_user, request.form.getlist("columns"))
    back = safe_next_url(request.form.get("next"), url_for("ledger.index"))
    if is_htmx():
        # The list again under its own filters: the columns changed in place.
        filters = queries.Filters.from_args(queries.args_of(back), current_user)
        context = pages.customers_context(filters, list_endpoint="ledger.index")
        return render("ledger/_results.html", **context)
    return see_other(back)


# ---- create, with the duplicate check ------------------------------------------------


def _new_form():
    form = custom_forms.form_for(NewCustomerForm, "customer")()
    if not access.can_choose_owner(current_user):
        del form.owner_id  # not on their page: a missing owner is not an empty choice
        return form
    owners = owner_choices(current_user)
    form.owner_id.choices = choices(
        [(AUTO, _("By the team's assignment rule")), ("pool", _("Public pool"))]
        + [(str(user.id), user.display_name) for user in owners]
    )
    return form


def _chosen_owner(form):
    """The owner field as the service takes it: AUTO, None (the pool) or a user id."""
    if not access.can_choose_owner(current_user):
        return None
    value = form.owner_id.data or ""
    return AUTO if value == AUTO else (int(value) if value.isdigit() else None)


@bp.route("/customers/new", methods=["GET", "POST"])
def new():
    form = _new_form()
    report, taken = None, False
    if form.validate_on_submit():
        try:
            customer = customers.create_customer(
                current_user,
                form.customer_input(form.contact_input()),
                owner_id=_chosen_owner(form),
                confirm_similar=form.confirm_similar.data,
            )
        except DuplicateFound as duplicate:
            report = duplicate.report
            if duplicate.blocking:
                duplicates.record_blocked_duplicate(current_user, report)
            form.form_errors.append(duplicate.message)
        except DomainError as error:
            add_form_error(form, error)
            taken = error.status == 409  # a unique custom field's value belongs to another customer
        else:
            flash(_("Customer %(name)s created.", name=customer.name), "success")
            return see_other(url_for("ledger.show", customer_id=customer.id))
    status = 409 if (report and report.blocking) or taken else form_status(form)
    return render(
        "ledger/new.html",
        form=form,
        report=report,
        collidable=pages.collidable(report),
        industries=INDUSTRIES,
        can_choose_owner=access.can_choose_owner(current_user),
        custom_inputs=custom_forms.custom_inputs(form),
        status=status,
    )


@bp.route("/customers/duplicates", methods=["POST"])
def check_duplicates():
    """The live duplicate check while typing (htmx): what the form would refuse or warn about."""
    form = NewCustomerForm()
    report = duplicates.duplicates_while_typing(form.customer_input(form.contact_input()))
    return render("ledger/_duplicates.html", report=report, collidable=pages.collidable(report), live=True)


# ---- one customer --------------------------------------------------------------------


def _refused_inline_form(customer_id, **forms):
    customer = access.get_customer_for(current_user, customer_id)
    return pages.customer_page(customer, status=422, **forms)


@bp.route("/customers/<int:customer_id>")
def show(customer_id):
    customer = access.get_customer_for(current_user, customer_id)
    return pages.customer_page(customer)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id):
    customer = access.get_customer_for(current_user, customer_id, "edit")
    form_class = custom_forms.form_for(EditCustomerForm, "customer")
    form = form_class(obj=customer)
    if request.method == "GET":
        form.tags.data = ", ".join(customer.tag_names)
        form.version.data = customer.version
        custom_forms.fill(form, customer.custom)
    report, taken = None, False
    stale = False
    if form.validate_on_submit():
        try:
            customers.update_customer(
                current_user,
                customer.id,
                form.version.data,
                form.customer_input(),
                confirm_similar=form.confirm_similar.data,
            )
        except StaleEdit as error:
            # Show the current values; keep what the user typed beside them.
            stale = _typed_values(form)
            db.session.refresh(error.record)
            form = form_class(formdata=None, obj=error.record)
            form.tags.data = ", ".join(error.record.tag_names)
            form.version.data = error.record.version
            custom_forms.fill(form, error.record.custom)
            form.form_errors.append(error.message)
        except DuplicateFound as duplicate:
            report = duplicate.report
            form.form_errors.append(duplicate.message)
        except DomainError as error:
            add_form_error(form, error)
            taken = error.status == 409
        else:
            flash(_("Saved."), "success")
            return see_other(url_for("ledger.show", customer_id=customer.id))
    status = 409 if stale or (report and report.blocking) or taken else form_status(form)
    return render(
        "ledger/edit.html",
        "ledger/_edit_form.html",
        customer=customer,
        form=form,
        report=report,
        collidable=pages.collidable(report),
        stale=stale,
        industries=INDUSTRIES,
        custom_inputs=custom_forms.custom_inputs(form),
        status=status,
    )


def _typed_values(form):
    labels = {}
    for field in form:
        if field.name in ("csrf_token", "version", "confirm_similar"):
            continue
        value = field.data
        if value not in (None, ""):
            labels[str(field.label.text)] = value
    return labels


@bp.route("/customers/<int:customer_id>/stage", methods=["POST"])
def change_stage(customer_id):
    customer = access.get_customer_for(current_user, customer_id, "edit")
    form = StageForm()
    if form.validate_on_submit():
        try:
            customer = customers.change_stage(current_user, customer.id, form.stage.data, form.version.data)
        except StaleEdit:
            flash(_("Someone else changed this customer in the meantime; check the stage again."), "error")
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Stage is now %(stage)s.", stage=customer.stage_label), "success")
    if form.errors:
        return _refused_inline_form(customer_id, stage_form=form)
    return see_other(url_for("ledger.show", customer_id=customer_id))


@bp.route("/customers/<int:customer_id>/fields", methods=["POST"])
def save_custom_values(customer_id):
    """The customer page's inline edit of the custom fields; htmx swaps the card."""
    customer = access.get_customer_for(current_user, customer_id, "edit")
    form = custom_forms.form_for(CustomValuesForm, "customer")()
    conflict = False
    if form.validate_on_submit():
        try:
            customers.update_custom_values(
                current_user, customer.id, form.version.data, custom_forms.custom_input(form, request.form)
            )
        except StaleEdit:
            form.form_errors.append(
                _("Someone else changed this customer in the meantime. Check and save again.")
            )
            conflict = True
        except DomainError as error:
            add_form_error(form, error)
            conflict = error.status == 409
        else:
            flash(_("Saved."), "success")
            if not is_htmx():
                return see_other(url_for("ledger.show", customer_id=customer.id) + "#details")
            db.session.expire_all()
            form = None
    customer = access.get_customer_for(current_user, customer_id)
    refused = {"custom_values_form": form} if form else {}
    status = 200 if form is None else (409 if conflict else form_status(form))
    return render(
        "ledger/show.html",
        "ledger/_details.html",
        status=status,
        **pages.customer_context(customer, **refused),
    )


@bp.route("/customers/<int:customer_id>/follow-ups", methods=["POST"])
def log_follow_up(customer_id):
    customer = access.get_customer_for(current_user, customer_id, "follow_up")
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            with submissions.once(form.submission_token.data, current_user):
                followups.log_follow_up(
                    current_user,
                    customer.id,
                    channel=form.channel.data,
                    content=form.content.data,
                    occurred_at=clock.from_local(form.occurred_at.data, current_user.timezone)
                    if form.occurred_at.data
                    else None,
                    next_step=form.next_step.data or "",
                    next_follow_up_on=form.next_follow_up_on.data,
                )
        except submissions.AlreadySubmitted as error:
            flash(error.message, "info")
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Follow-up saved."), "success")
        if not form.errors:
            if not is_htmx():
                return see_other(url_for("ledger.show", customer_id=customer.id) + "#timeline")
            db.session.expire_all()
            form = FollowUpForm(formdata=None)
    customer = access.get_customer_for(current_user, customer_id)
    return render(
        "ledger/show.html",
        "ledger/_activity.html",
        status=form_status(form),
        **pages.customer_context(customer, follow_up_form=form),
    )


# ---- contacts ------------------------------------------------------------------------


def _contact_form_page(customer, form, contact_id=None):
    return render(
        "ledger/contact_form.html",
        customer=customer,
        form=form,
        contact_id=contact_id,
        custom_inputs=custom_forms.custom_inputs(form),
        status=form_status(form),
    )


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
def new_contact(customer_id):
    customer = access.get_customer_for(current_user, customer_id, "edit")
    form = custom_forms.form_for(ContactForm, "contact")()
    if form.validate_on_submit():
        try:
            contacts.add_contact(current_user, customer.id, form.contact_input())
        except DuplicateFound as duplicate:
            form.form_errors.append(
                _(
                    "This phone number or e-mail belongs to %(name)s already.",
                    name=duplicate.report.blocking[0].customer.name,
                )
            )
        except DomainError as error:
            add_form_error(form, _contact_field_error(error))
        else:
            flash(_("Contact added."), "success")
            return see_other(url_for("ledger.show", customer_id=customer.id))
    return _contact_form_page(customer, form)


@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_contact(customer_id, contact_id):
    customer = access.get_customer_for(current_user, customer_id, "edit")
    contact = next((c for c in customer.contacts if c.id == contact_id), None)
    if contact is None:
        abort(404)
    form_class = custom_forms.form_for(EditContactForm, "contact")
    form = form_class(obj=contact)
    if request.method == "GET":
        _show_phones(form, contact)
        custom_forms.fill(form, contact.custom)
    stale = False
    if form.validate_on_submit():
        try:
            contacts.update_contact(
                current_user, customer.id, contact.id, form.version.data, form.contact_input()
            )
        except StaleEdit as error:
            db.session.refresh(error.record)
            form = form_class(formdata=None, obj=error.record)
            _show_phones(form, error.record)
            custom_forms.fill(form, error.record.custom)
            form.form_errors.append(error.message)
            stale = True
        except DuplicateFound as duplicate:
            form.form_errors.append(
                _(
                    "This phone number or e-mail belongs to %(name)s already.",
                    name=duplicate.report.blocking[0].customer.name,
                )
            )
        except DomainError as error:
            add_form_error(form, _contact_field_error(error))
        else:
            flash(_("Contact saved."), "success")
            return see_other(url_for("ledger.show", customer_id=customer.id))
    response = _contact_form_page(customer, form, contact.id)
    if stale:
        response.status_code = 409
    return response


def _show_phones(form, contact):
    numbers = [phone.number for phone in contact.phones] + ["", ""]
    form.phone.data, form.phone2.data = numbers[0], numbers[1]


def _contact_field_error(error):
    """Service field names (contacts-0-phones) -> this form's fields."""
    if error.field and error.field.startswith("contacts-"):
        error.field = {"phones": "phone"}.get(error.field.rsplit("-", 1)[-1], error.field.rsplit("-", 1)[-1])
    return error


@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>/delete", methods=["POST"])
def delete_contact(customer_id, contact_id):
    contacts.delete_contact(current_user, customer_id, contact_id)
    flash(_("Contact deleted."), "success")
    return see_other(url_for("ledger.show", customer_id=customer_id))


# ---- collaborators -------------------------------------------------------------------


@bp.route("/customers/<int:customer_id>/collaborators", methods=["POST"])
def add_collaborator(customer_id):
    customer = access.get_customer_for(current_user, customer_id, "collaborators")
    form = pages.collaborator_form(customer)
    if form.validate_on_submit():
        try:
            collaborators.add_collaborator(current_user, customer.id, form.user_id.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Collaborator added."), "success")
            return see_other(url_for("ledger.show", customer_id=customer.id) + "#collaborators")
    return _refused_inline_form(customer.id, collaborator_form=form)


@bp.route("/customers/<int:customer_id>/collaborators/request", methods=["POST"])
def request_collaboration(customer_id):
    customer = access.get_customer_for(current_user, customer_id)
    form = CollaborationRequestForm()
    if form.validate_on_submit():
        try:
            collaborators.request_collaboration(current_user, customer.id, form.message.data or "")
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Your request was sent to the owner."), "success")
            return see_other(url_for("ledger.show", customer_id=customer.id))
    return _refused_inline_form(customer.id, request_form=form)


@bp.route(
    "/customers/<int:customer_id>/collaborators/<int:user_id>/<any(approve, decline):answer>",
    methods=["POST"],
)
def answer_collaboration(customer_id, user_id, answer):
    collaborators.answer_collaboration(current_user, customer_id, user_id, approve=answer == "approve")
    flash(_("Request accepted.") if answer == "approve" else _("Request declined."), "success")
    return see_other(url_for("ledger.show", customer_id=customer_id) + "#collaborators")


@bp.route("/customers/<int:customer_id>/collaborators/<int:user_id>/remove", methods=["POST"])
def remove_collaborator(customer_id, user_id):
    collaborators.remove_collaborator(current_user, customer_id, user_id)
    flash(_("Collaborator removed."), "success")
    return see_other(url_for("ledger.show", customer_id=customer_id) + "#collaborators")


# ---- trash ---------------------------------------------------------------------------


@bp.route("/customers/<int:customer_id>/delete", methods=["POST"])
def delete(customer_id):
    customer = delete_customer(current_user, customer_id)
    flash(
        _("%(name)s was moved to the trash. An administrator can restore it.", name=customer.name), "success"
    )
    return see_other(url_for("ledger.index"))


TRASH_PER_PAGE = 100


@bp.route("/customers/trash")
@roles_required(Role.ADMIN)
def trash():
    page = deleted_page(page_number(), TRASH_PER_PAGE)
    return render("ledger/trash.html", page=page, deleted_by=deleted_by(page.items))


@bp.route("/customers/<int:customer_id>/restore", methods=["POST"])
@roles_required(Role.ADMIN)
def restore(customer_id):
    customer = restore_customer(current_user, customer_id)
    flash(_("%(name)s is back in the ledger.", name=customer.name), "success")
    return see_other(url_for("ledger.show", customer_id=customer.id))

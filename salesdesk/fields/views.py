"""The admin's pages of custom fields: the list per entity with each field's state and
how many records hold a value, the form, and the retire, restore and move buttons."""

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import allowed
from ..errors import DomainError
from ..web import add_form_error, form_status, render, see_other
from . import access, bp, definitions
from .forms import FieldForm, NewFieldForm
from .models import CHOICE_TYPES, ENTITY_LABELS

ADMINS = allowed(access.may_manage_fields)


@bp.route("/admin/fields")
@ADMINS
def index():
    fields = definitions.all_fields()
    return render(
        "fields/index.html",
        groups=[
            (entity, label, [f for f in fields if f.entity == entity])
            for entity, label in ENTITY_LABELS.items()
        ],
        counts=definitions.value_counts(fields),
    )


def _form_page(form, target, save):
    values_count = definitions.value_counts([target])[target.id] if target else 0
    if values_count:
        form.type.description = _("Records hold values in this field: its type cannot change.")
    conflict = False
    if form.validate_on_submit():
        try:
            saved = save(form.values(request.form, target))
        except DomainError as error:
            if error.status == 404:
                raise
            add_form_error(form, error)
            conflict = error.status == 409  # a taken key, a stale page, shared values
        else:
            flash(_("Saved %(name)s.", name=saved.label), "success")
            return see_other(url_for("fields.index"))
    return render(
        "fields/form.html",
        form=form,
        target=target,
        choice_types=[kind.value for kind in CHOICE_TYPES],
        values_count=values_count,
        status=409 if conflict else form_status(form),
    )


@bp.route("/admin/fields/new", methods=["GET", "POST"])
@ADMINS
def new():
    form = NewFieldForm()
    if request.method == "GET" and request.args.get("entity") in ENTITY_LABELS:
        form.entity.data = request.args["entity"]
    return _form_page(form, None, lambda values: definitions.create_field(current_user, values))


@bp.route("/admin/fields/<int:field_id>", methods=["GET", "POST"])
@ADMINS
def edit(field_id):
    target = definitions.get_field(field_id)
    form = FieldForm(obj=target)
    version = request.form.get("version", type=int) if request.method == "POST" else None
    return _form_page(
        form, target, lambda values: definitions.update_field(current_user, target.id, version, values)
    )


@bp.route("/admin/fields/<int:field_id>/retire", methods=["POST"])
@ADMINS
def retire(field_id):
    target = definitions.retire_field(current_user, field_id)
    flash(
        _("%(name)s is retired: hidden from forms and lists, its values kept.", name=target.label), "success"
    )
    return see_other(url_for("fields.index"))


@bp.route("/admin/fields/<int:field_id>/restore", methods=["POST"])
@ADMINS
def restore(field_id):
    target = definitions.restore_field(current_user, field_id)
    flash(_("%(name)s is back in forms and lists.", name=target.label), "success")
    return see_other(url_for("fields.index"))


@bp.route("/admin/fields/<int:field_id>/move", methods=["POST"])
@ADMINS
def move(field_id):
    definitions.move_field(current_user, field_id, request.form.get("direction", ""))
    return see_other(url_for("fields.index") + f"#field-{field_id}")

"""The admin's field form, and the custom fields added to a record's form: one input of
the type's own control per active field, named custom_<key>. Their checks are the
service's (types.py); the inputs only cap what can be typed."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form, SelectField, SelectMultipleField, choices
from . import types, values
from .definitions import MAX_HELP, MAX_KEY, MAX_LABEL, Values, active_fields
from .models import ENTITY_LABELS, TYPE_LABELS, FieldType


class FieldForm(Form):
    label_zh = StringField(
        _l("Name (Chinese)"),
        validators=[DataRequired(), Length(max=MAX_LABEL)],
        render_kw={"maxlength": MAX_LABEL},
    )
    label_en = StringField(
        _l("Name (English)"),
        validators=[Length(max=MAX_LABEL)],
        description=_l("Shown to those who use Salesdesk in English; the Chinese name otherwise."),
        render_kw={"maxlength": MAX_LABEL},
    )
    type = SelectField(_l("Type"), choices=choices(TYPE_LABELS.items()), default=FieldType.TEXT)
    help_text = StringField(
        _l("Help text"),
        validators=[Length(max=MAX_HELP)],
        description=_l("Shown under the input, as this line is."),
        render_kw={"maxlength": MAX_HELP},
    )
    required = BooleanField(_l("Required field"))
    unique = BooleanField(
        _l("Unique"),
        description=_l(
            "No two customers may have the same value, as with the credit code. Text and numbers."
        ),
    )
    sensitive = BooleanField(
        _l("Sensitive"), description=_l("Masked like phone numbers for those who may not see the details.")
    )
    searchable = BooleanField(
        _l("Searchable"), description=_l("The list's search box finds customers by it. Text fields.")
    )
    new_choices = TextAreaField(
        _l("New choices"),
        description=_l("One per line; an English name after a |, as in 展会 | Trade fair."),
        validators=[Length(max=10_000)],
    )

    def values(self, formdata, existing=None):
        """The service's Values; choices from the rows of the existing ones (named
        choice-<key>-zh/-en/-order/-retired) and the new lines."""
        rows = []
        for index, choice in enumerate(existing.choices if existing else []):
            prefix = f"choice-{choice['key']}-"
            try:
                order = int(formdata.get(prefix + "order", index + 1))
            except ValueError:
                order = index + 1
            rows.append(
                (
                    order,
                    index,
                    (
                        choice["key"],
                        formdata.get(prefix + "zh", choice["zh"]),
                        formdata.get(prefix + "en", choice.get("en", "")),
                        bool(formdata.get(prefix + "retired")),
                    ),
                )
            )
        wanted = [row for _order, _index, row in sorted(rows, key=lambda row: row[:2])]
        for line in (self.new_choices.data or "").splitlines():
            if line.strip():
                zh, _bar, en = line.partition("|")
                wanted.append(("", zh.strip() or line.strip(), en.strip(), False))
        return Values(
            label_zh=self.label_zh.data or "",
            label_en=self.label_en.data or "",
            type=self.type.data,
            entity=existing.entity if existing else self.entity.data,
            key="" if existing else (self.key.data or ""),
            required=self.required.data,
            help_text=self.help_text.data or "",
            unique=self.unique.data,
            sensitive=self.sensitive.data,
            searchable=self.searchable.data,
            choices=wanted,
        )


class NewFieldForm(FieldForm):
    entity = SelectField(_l("For"), choices=choices(ENTITY_LABELS.items()), default="customer")
    key = StringField(
        _l("Key"),
        validators=[Length(max=MAX_KEY)],
        description=_l(
            "Optional: made from the name (年度预算 → nianduyusuan) if left empty. It never changes: "
            "imports and integrations use it."
        ),
        render_kw={"maxlength": MAX_KEY, "autocomplete": "off", "spellcheck": "false"},
    )


class _CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _MarkedRequired:
    """Marks a required field's input (the label's * and `required`); the check itself
    is the service's, the same for forms and imports."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        pass


def _input(field, users):
    """The WTForms field of one custom field, of its type's own control."""
    options = {"label": field.label, "description": field.help_text}
    if field.required:
        options["validators"] = [_MarkedRequired()]
    kind = FieldType(field.type)
    if kind == FieldType.LONG_TEXT:
        options["validators"] = [*options.get("validators", []), Length(max=types.MAX_LONG_TEXT)]
        return TextAreaField(**options)
    if kind == FieldType.SINGLE_CHOICE:
        offered = [("", "—")] + [(c["key"], field.choice_label(c["key"])) for c in field.open_choices]
        return SelectField(choices=choices(offered), validate_choice=False, **options)
    if kind == FieldType.MULTIPLE_CHOICE:
        offered = [(c["key"], field.choice_label(c["key"])) for c in field.open_choices]
        return _CheckboxList(choices=choices(offered), validate_choice=False, **options)
    if kind == FieldType.YES_NO:
        return SelectField(
            choices=choices([("", "—"), ("yes", _l("Yes")), ("no", _l("No"))]),
            validate_choice=False,
            **options,
        )
    if kind == FieldType.USER:
        offered = [("", "—")] + [(str(user.id), user.display_name) for user in users]
        return SelectField(choices=choices(offered), validate_choice=False, **options)
    render_kw = {"maxlength": types.MAX_TEXT}
    if kind == FieldType.DATE:
        render_kw = {"type": "date"}
    elif kind in (FieldType.NUMBER, FieldType.MONEY):
        render_kw = {"inputmode": "decimal", "maxlength": 40}
    options["validators"] = [*options.get("validators", []), Length(max=types.MAX_TEXT)]
    return StringField(render_kw=render_kw, **options)


def with_custom_fields(form_class, fields, users=()):
    """`form_class` with an input per field (its name custom_<key>, its order theirs).
    users: who a user field offers (the active users)."""
    extended = type(form_class.__name__, (form_class,), {"custom_fields": list(fields)})
    for field in fields:
        setattr(extended, field.form_name, _input(field, users))
    return extended


def form_for(form_class, entity, fields=None):
    """`form_class` with an input per active custom field of `entity` (fields: those,
    when the caller has read them)."""
    fields = active_fields(entity) if fields is None else fields
    users = values.active_user_list() if any(f.type == FieldType.USER for f in fields) else ()
    return with_custom_fields(form_class, fields, users)


def custom_inputs(form):
    """The form's custom-field inputs, in the fields' order (templates draw them)."""
    return [form[field.form_name] for field in getattr(form, "custom_fields", ())]


def custom_input(form, formdata):
    """{key: raw value} of the custom fields the form shows, and of any other custom_*
    name the post carries (a retired field's or a forged one: the service refuses it)."""
    raw = {field.key: form[field.form_name].data for field in getattr(form, "custom_fields", ())}
    for name in formdata or ():
        if name.startswith("custom_") and name[len("custom_") :] not in raw:
            raw[name[len("custom_") :]] = formdata.getlist(name)
    return raw


def fill(form, values):
    """Show a record's values in the form's custom inputs (a GET, or after a stale edit)."""
    for field in getattr(form, "custom_fields", ()):
        form[field.form_name].data = types.form_value(field, (values or {}).get(field.key))

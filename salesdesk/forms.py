"""Form helpers shared by the features."""

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from markupsafe import Markup, escape
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    widgets,
)
from wtforms import SelectField as _SelectField
from wtforms import SelectMultipleField as _SelectMultipleField

from .i18n import WTFORMS_MESSAGES
from .submissions import is_token, new_token


class Select(widgets.Select):
    """WTForms' select with each plain option written directly, the same markup: its
    html_params and Markup.format cost ~25 µs an option, and a list page draws every
    seller in the bulk assignment's select (an admin's: 200 options, 5 ms)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(value)}">{escape(choice.label or value)}</option>')


class SelectField(_SelectField):
    widget = Select()


class SelectMultipleField(_SelectMultipleField):
    widget = Select(multiple=True)


# What a browser leaves out of a post when nothing is chosen: an unchecked box, an
# empty multiple select, a radio group with no button pressed, no file.
MAY_BE_ABSENT = (BooleanField, SelectMultipleField, RadioField, FileField)
TAKES_SEVERAL = (SelectMultipleField, MultipleFileField)


class Form(FlaskForm):
    """The base of every form: a submitted form is judged on what was posted only.

    WTForms keeps the object's (or the default) value for a field the post leaves out,
    so a post without `expected_amount` validated the stored Decimal as text, and one
    without `tags` handed the article's tag objects to the service. Here a field the
    page always sends but the post lacks is refused (a stale page or a forged post must
    not clear what it did not show); several values for a one-value field are an error;
    a JSON body or an empty one is an empty form, not another source."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto and form.is_submitted():
                # Flask-WTF reads a JSON body instead, or nothing when the post is empty.
                return CombinedMultiDict((request.files, request.form))
            return super().wrap_formdata(form, formdata)

        def get_translations(self, form):
            return WTFORMS_MESSAGES

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        formdata = self.meta.wrap_formdata(self, formdata)
        self.absent = []
        if formdata is not None:
            formdata = self._absent_as_empty(formdata)
        super().process(formdata, obj, data, extra_filters, **kwargs)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # After the validators: Optional() clears a field's errors when its first value is empty.
        for field in self:
            if field.name in self.absent:
                field.errors = [_l("This field is missing from the form. Reload the page and try again.")]
                valid = False
            elif len(field.raw_data or ()) > 1 and not isinstance(field, TAKES_SEVERAL):
                field.errors = [*field.errors, _l("Send one value for this field.")]
                valid = False
        return valid

    def _absent_as_empty(self, formdata):
        # Processed as empty, so that nothing of the object's stays in the form shown again.
        # The CSRF token of an htmx post comes in a header instead.
        self.absent = [
            field.name
            for field in self
            if field.name not in formdata
            and not isinstance(field, MAY_BE_ABSENT)
            and field.name != self.meta.csrf_field_name
        ]
        if not self.absent:
            return formdata
        filled = MultiDict(formdata)
        for name in self.absent:
            filled.setlist(name, [""])
        return filled


def option_tags(pairs, selected):
    """The <option>s of a plain select (the lists' filters) from (value, label) pairs, the
    one whose value reads as `selected` selected. Written here: a template loop escaped
    and compared each of the owner filter's ~200 sellers in Jinja (~1 ms a list page)."""
    chosen = None if selected is None else str(selected)
    written = []
    for value, label in pairs:
        mark = " selected" if str(value) == chosen else ""
        written.append(f'<option value="{escape(value)}"{mark}>{escape(label)}</option>')
    return Markup("".join(written))


def choices(pairs):
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class SubmissionTokenField(HiddenField):
    """A new one-time token each time the form is rendered: a page that shows one form
    several times (the workbench's due list) gives each its own, and a form shown again
    after an error needs none of the old one (a refused post recorded nothing)."""

    def _value(self):
        return new_token()


class SubmittedOnceForm(Form):
    """A form whose effect must not happen twice (awards, thanks, follow-ups): the view
    runs it inside `submissions.once(form.submission_token.data, user)`. Rendered by
    hidden_tag(), or by the submission_token macro in _macros/forms.html."""

    submission_token = SubmissionTokenField()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not is_token(self.submission_token.data):
            # A page from before tokens, or a forged post: refused, and the form shown
            # again carries a fresh token.
            self.form_errors.append(_("This form is out of date. Please send it again."))
            return False
        return valid

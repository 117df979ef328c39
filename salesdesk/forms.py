"""Form helpers shared by the features."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import BooleanField, FileField, RadioField, SelectChoice, SelectMultipleField

# What a browser leaves out of a post when nothing is chosen: an unchecked box, an
# empty multiple select, a radio group with no button pressed, no file.
MAY_BE_ABSENT = (BooleanField, SelectMultipleField, RadioField, FileField)
TAKES_SEVERAL = (SelectMultipleField,)


class Form(FlaskForm):
    """The base of every form: a submitted form is judged on what was posted only.

    WTForms keeps the object's (or the default) value for a field the post leaves out,
    so a post without `expected_amount` validated the stored Decimal as text, and one
    without `tags` handed the article's tag objects to the service. Here a missing field
    is empty input, as if the user had cleared it; several values for a one-value field
    are an error; a JSON body or an empty one is an empty form, not another source."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto and form.is_submitted():
                # Flask-WTF reads a JSON body instead, or nothing when the post is empty.
                return CombinedMultiDict((request.files, request.form))
            return super().wrap_formdata(form, formdata)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        formdata = self.meta.wrap_formdata(self, formdata)
        if formdata is not None:
            formdata = self._absent_as_empty(formdata)
        super().process(formdata, obj, data, extra_filters, **kwargs)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # After the validators: Optional() clears a field's errors when its first value is empty.
        for field in self:
            if len(field.raw_data or ()) > 1 and not isinstance(field, TAKES_SEVERAL):
                field.errors = [*field.errors, _l("Send one value for this field.")]
                valid = False
        return valid

    def _absent_as_empty(self, formdata):
        absent = [
            field.name
            for field in self
            if field.name not in formdata and not isinstance(field, MAY_BE_ABSENT)
        ]
        if not absent:
            return formdata
        filled = MultiDict(formdata)
        for name in absent:
            filled.setlist(name, [""])
        return filled


def choices(pairs):
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]

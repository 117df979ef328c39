"""Form helpers shared by the features."""

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice

from .submissions import is_token, new_token


def choices(pairs):
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class SubmissionTokenField(HiddenField):
    """A new one-time token each time the form is rendered: a page that shows one form
    several times (the workbench's due list) gives each its own, and a form shown again
    after an error needs none of the old one (a refused post recorded nothing)."""

    def _value(self):
        return new_token()


class SubmittedOnceForm(FlaskForm):
    """A form whose effect must not happen twice (awards, thanks, follow-ups): the view
    runs it inside `submissions.once(form.submission_token.data, user)`. Rendered by
    hidden_tag(), or by the submission_token macro in _macros/forms.html."""

    submission_token = SubmissionTokenField()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not is_token(self.submission_token.data):
            # A page from before tokens, or a forged post: refused like any form with
            # a missing field; the form shown again carries a fresh token.
            self.form_errors.append(_("This form is out of date. Please send it again."))
            return False
        return valid

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import Form, SelectField, choices
from .lifecycle import MAX_MESSAGE, MAX_RATING_COMMENT
from .models import PRIORITY_LABELS
from .requests import MAX_DETAILS, MAX_TITLE


class RequestForm(Form):
    type_id = SelectField(_l("Type of request"), coerce=int, validators=[InputRequired()])
    customer_id = SelectField(_l("Customer"), coerce=lambda value: int(value) if value else None)
    title = StringField(_l("What do you need?"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    details = TextAreaField(
        _l("Details"),
        validators=[Length(max=MAX_DETAILS)],
        description=_l("Answer the type's questions. Markdown works: **bold**, lists, links."),
    )
    needed_by = DateField(_l("Needed by"), validators=[Optional()])
    priority = RadioField(
        _l("Priority"),
        choices=choices((key.value, label) for key, label in PRIORITY_LABELS.items()),
        default="normal",
    )
    files = MultipleFileField(
        _l("Attachments"),
        description=_l("PDF, Office documents or images, up to 10 MB each, 10 files at most."),
    )


class ReplyForm(Form):
    body = TextAreaField(_l("Message"), validators=[Length(max=MAX_MESSAGE)])
    internal = BooleanField(_l("Internal note (only support, managers and admins see it)"))
    files = MultipleFileField(_l("Attachments"))


class MessageForm(Form):
    """What returning, resolving, reopening and cancelling say to the other side."""

    body = TextAreaField(_l("Message"), validators=[Length(max=MAX_MESSAGE)])


# What each step's message is: the page shows several, each labelled for its step.
MESSAGE_LABELS = {
    "resolve": _l("The answer, what was done"),
    "return": _l("What is missing"),
    "reopen": _l("What is still missing"),
    "cancel": _l("Why (optional)"),
}


def message_form(step, **kwargs):
    """The message form of one step, its field with the step's own id and label."""
    form = MessageForm(**kwargs)
    form.body.id = f"{step}-body"
    form.body.label.field_id = form.body.id
    form.body.label.text = MESSAGE_LABELS[step]
    return form


class AssignForm(Form):
    handler_id = SelectField(_l("Handler"), coerce=int, validators=[InputRequired()])


class ConfirmForm(Form):
    rating = RadioField(
        _l("How satisfied are you?"),
        choices=choices((str(stars), str(stars)) for stars in range(5, 0, -1)),
        validators=[InputRequired(_l("Give 1 to 5 stars."))],
    )
    comment = StringField(_l("Comment (optional)"), validators=[Length(max=MAX_RATING_COMMENT)])

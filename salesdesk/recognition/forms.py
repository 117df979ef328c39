"""Forms for awards, thanks, reversals and the settings. They check the shape of the
input only; the rules (budgets, limits, who may) live in the service modules, and the
limits the forms show (maxlength, min, max) are imported from there."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional
from wtforms.widgets import HiddenInput

from ..forms import Form, SelectField, SubmittedOnceForm, choices
from .entries import MAX_REASON
from .models import CATEGORY_LABELS, Category
from .settings import SETTING_RANGES


def _reason(label, rows=3):
    return TextAreaField(
        label,
        validators=[DataRequired(message=_l("Say why: a reason is required."))],
        render_kw={"maxlength": MAX_REASON, "rows": rows},
    )


def _optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


class _GiveForm(SubmittedOnceForm):
    # The choices only offer colleagues; a forged id is judged by the service.
    recipient_id = SelectField(
        _l("Colleague"),
        coerce=_optional_int,
        validate_choice=False,
        validators=[DataRequired(message=_l("Choose a colleague."))],
    )
    category = SelectField(
        _l("Point category"),
        choices=choices(CATEGORY_LABELS.items()),
        default=Category.FOLLOW_UP.value,
        validate_choice=False,
    )
    reason = _reason(_l("Why the points"))
    customer_id = IntegerField(widget=HiddenInput(), validators=[Optional()])
    next = HiddenField()

    def __init__(self, *args, recipients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.recipient_id.choices = choices([("", _l("— choose a colleague —")), *recipients])


class AwardForm(_GiveForm):
    points = IntegerField(
        _l("Points"), validators=[InputRequired(message=_l("Enter the points as a whole number."))]
    )

    def __init__(self, *args, max_points, **kwargs):
        super().__init__(*args, **kwargs)
        self.points.render_kw = {"min": 1, "max": max_points, "inputmode": "numeric"}


class ThanksForm(_GiveForm):
    points = SelectField(_l("Points"), coerce=_optional_int, validate_choice=False, default=1)
    reason = _reason(_l("Thank-you message"))

    def __init__(self, *args, max_points, **kwargs):
        super().__init__(*args, **kwargs)
        self.points.choices = choices((n, str(n)) for n in range(1, max_points + 1))


class ReverseForm(Form):
    reason = _reason(_l("Reason for the reversal"), rows=2)


def _number(name, label):
    low, high = SETTING_RANGES[name]
    return IntegerField(
        label,
        validators=[InputRequired(message=_l("Enter a whole number."))],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


class SettingsForm(Form):
    award_monthly_budget = _number("award_monthly_budget", _l("Monthly budget of each manager"))
    award_max_points = _number("award_max_points", _l("Most points in one award"))
    thanks_monthly_budget = _number("thanks_monthly_budget", _l("Monthly thanks budget of each user"))
    thanks_max_points = _number("thanks_max_points", _l("Most points in one thanks"))
    thanks_per_colleague_weekly = _number(
        "thanks_per_colleague_weekly", _l("Thanks to the same colleague per week, at most")
    )
    helpful_enabled = BooleanField(_l("Points when someone else marks your article helpful"))
    helpful_points = _number("helpful_points", _l("Points per helpful mark"))
    helpful_monthly_cap = _number("helpful_monthly_cap", _l("Most points per article and month"))
    won_enabled = BooleanField(_l("Points for the collaborators of a customer that is won"))
    won_points = _number("won_points", _l("Points per collaborator"))

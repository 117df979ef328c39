"""The support desk's admin forms: request types, calendar days and the desk's settings."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, IntegerField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import Form, SelectField, choices
from .calendar_admin import KINDS, MAX_DAY_NAME, SETTING_RANGES, YEAR_RANGE
from .models import ROUTING_LABELS
from .types_admin import HOURS_RANGE, HOURS_STEP, LEVELS, MAX_NAME, MAX_PROMPTS, POSITION_RANGE, TypeValues


def _hours(label):
    low, high = HOURS_RANGE
    return DecimalField(
        label,
        places=None,  # 8 and 1.5, not 8.00
        validators=[InputRequired(), NumberRange(low, high)],
        render_kw={"step": str(HOURS_STEP), "min": str(low), "max": str(high), "inputmode": "decimal"},
    )


class TypeForm(Form):
    name = StringField(_l("Name of the type"), validators=[DataRequired(), Length(max=MAX_NAME)])
    prompts = TextAreaField(
        _l("Prompts"),
        validators=[Optional(), Length(max=MAX_PROMPTS)],
        description=_l("One question per line; they pre-fill the details of a new request."),
        render_kw={"rows": 6},
    )
    team_id = SelectField(
        _l("Handled by"),
        coerce=int,
        description=_l("The support users of a team, or every support user of the company."),
    )
    routing = SelectField(
        _l("Routing"), choices=choices((routing.value, label) for routing, label in ROUTING_LABELS.items())
    )
    response_normal_hours = _hours(_l("Normal: first response (working hours)"))
    resolve_normal_hours = _hours(_l("Normal: resolution (working hours)"))
    response_urgent_hours = _hours(_l("Urgent: first response (working hours)"))
    resolve_urgent_hours = _hours(_l("Urgent: resolution (working hours)"))
    position = IntegerField(
        _l("Position in the list"),
        validators=[InputRequired(), NumberRange(*POSITION_RANGE)],
        description=_l("Smaller numbers come first."),
    )

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.team_id.choices = choices(
            [(0, _l("The whole company"))] + [(team.id, team.name) for team in teams]
        )

    def values(self):
        return TypeValues(
            name=self.name.data,
            prompts=self.prompts.data or "",
            team_id=self.team_id.data or None,
            routing=self.routing.data,
            position=self.position.data,
            **{field: getattr(self, field).data for field in LEVELS},
        )


class DayForm(Form):
    day = DateField(_l("Date"), validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=choices(KINDS.items()))
    name = StringField(
        _l("Name of the day"),
        validators=[DataRequired(), Length(max=MAX_DAY_NAME)],
        description=_l("As the notice says: 春节, 国庆节调休, …"),
    )


class RemoveDayForm(Form):
    day = DateField(_l("Date"), validators=[InputRequired()])


class LoadForm(Form):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(*YEAR_RANGE)])


def _number(label, name, description=None):
    return IntegerField(
        label, validators=[InputRequired(), NumberRange(*SETTING_RANGES[name])], description=description
    )


class SettingsForm(Form):
    day_start = TimeField(
        _l("Working day starts"), format=["%H:%M", "%H:%M:%S"], validators=[InputRequired()]
    )
    day_end = TimeField(_l("Working day ends"), format=["%H:%M", "%H:%M:%S"], validators=[InputRequired()])
    warn_minutes = _number(
        _l("Warn before a breach (working minutes)"),
        "warn_minutes",
        _l("The handler and the lead are told this long before a due time."),
    )
    auto_close_days = _number(
        _l("Close unrated requests after (working days)"),
        "auto_close_days",
        _l("A resolved request the requester neither confirms nor reopens closes by itself."),
    )
    reopen_days = _number(
        _l("A closed request can be reopened for (days)"), "reopen_days", _l("Calendar days after it closed.")
    )
    five_star_points = _number(
        _l("Points for a 5-star rating"), "five_star_points", _l("Given to the handler; 0 gives none.")
    )
    five_star_monthly_cap = _number(_l("At most this many such points a month"), "five_star_monthly_cap")

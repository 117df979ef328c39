from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..auth.models import ROLE_LABELS, Role
from ..auth.services import MIN_PASSWORD_LENGTH
from ..forms import Form, SelectField, choices
from ..i18n import LANGUAGES


def _team_choices(teams):
    return choices([(0, _l("— no team —"))] + [(team.id, team.name) for team in teams])


class UserForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(
        _l("Role"),
        choices=choices((role.value, label) for role, label in ROLE_LABELS.items()),
        default=Role.REP.value,
    )
    team_id = SelectField(_l("Team"), coerce=int)
    locale = SelectField(_l("Language"), choices=choices(LANGUAGES.items()))
    # Shown for support users only (the edit page): they assign their queue's requests.
    support_lead = BooleanField(
        _l("Support lead"),
        description=_l("Assigns the requests of their team's support queue and sees the support metrics."),
    )
    password = PasswordField(
        _l("New password"),
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
        description=_l(
            "At least %(n)s characters. Leave empty to keep the current password.", n=MIN_PASSWORD_LENGTH
        ),
    )

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.team_id.choices = _team_choices(teams)


class NewUserForm(UserForm):
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
        description=_l(
            "At least %(n)s characters. Tell it to the user, who can change it.", n=MIN_PASSWORD_LENGTH
        ),
    )


class TeamForm(Form):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=64)])
    timezone = SelectField(_l("Time zone"), default="Asia/Shanghai")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = sorted(available_timezones())

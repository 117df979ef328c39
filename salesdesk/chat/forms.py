"""The connection form. Its limits and checks are the service's (connections.py)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField

from ..forms import Form, SelectField, SelectMultipleField, choices
from ..i18n import LANGUAGES
from .addresses import MAX_URL_LENGTH
from .connections import MAX_NAME, MAX_SECRET, Values
from .models import EVENT_LABELS
from .robots import PLATFORM_LABELS


class ConnectionForm(Form):
    name = StringField(
        _l("Group name"),
        description=_l("Which group it posts to, such as “华东销售群”."),
        render_kw={"maxlength": MAX_NAME, "autocomplete": "off"},
    )
    platform = SelectField(_l("Platform"), choices=choices(PLATFORM_LABELS.items()))
    url = StringField(
        _l("Webhook address"),
        description=_l("Copy it from the robot's settings in the group. It must start with https://."),
        render_kw={
            "maxlength": MAX_URL_LENGTH,
            "autocomplete": "off",
            "inputmode": "url",
            "spellcheck": "false",
        },
    )
    secret = PasswordField(
        _l("Secret"),
        description=_l(
            "DingTalk: the signing secret (加签, starts with SEC). Feishu: the signature secret, if the "
            "robot has one. A generic webhook: the key its messages are signed with. WeCom has none."
        ),
        render_kw={"maxlength": MAX_SECRET, "autocomplete": "new-password", "spellcheck": "false"},
    )
    team_id = SelectField(_l("Scope"), coerce=int)
    events = SelectMultipleField(_l("Events it receives"), choices=choices(EVENT_LABELS.items()))
    locale = SelectField(_l("Language of the messages"), choices=choices(LANGUAGES.items()))
    enabled = BooleanField(_l("On: post messages to this group"), default=True)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.team_id.choices = choices(
            [(0, _l("The whole company"))]
            + [(team.id, _l("Team %(name)s", name=team.name)) for team in teams]
        )

    def values(self):
        return Values(
            name=self.name.data or "",
            platform=self.platform.data,
            url=self.url.data or "",
            secret=self.secret.data or "",
            team_id=self.team_id.data or None,
            events=tuple(self.events.data or ()),
            locale=self.locale.data,
            enabled=bool(self.enabled.data),
        )

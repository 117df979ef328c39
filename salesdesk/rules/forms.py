from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import Form, SelectField, choices
from ..ledger.models import GRADES
from ..ledger.ownership import owner_choices
from ..settings import EXPORT_SCOPES
from . import assignment, collisions, extensions, pool
from .models import DECISION_LABELS, STRATEGY_LABELS
from .settings import GRADE_PERIOD_RANGE, SETTING_RANGES


def _number(label, name, description=None):
    low, high = SETTING_RANGES[name]
    return IntegerField(label, validators=[InputRequired(), NumberRange(low, high)], description=description)


class SettingsForm(Form):
    max_active_per_rep = _number(_l("Active customers a rep may hold"), "max_active_per_rep")
    claims_per_day = _number(_l("Claims per rep per day"), "claims_per_day")
    follow_up_days = _number(_l("Days without follow-up before reclaim"), "follow_up_days")
    deal_days = _number(_l("Days without a win before reclaim"), "deal_days")
    warning_days = _number(_l("Warn the owner this many days before"), "warning_days")
    cooldown_days = _number(
        _l("Cooldown: days before a rep may claim back what they gave up"), "cooldown_days"
    )
    similarity_percent = _number(
        _l("Similar-name warning from (percent)"),
        "similarity_percent",
        _l("Company names at least this similar to an existing one warn on creation."),
    )
    export_scope = SelectField(_l("Who may export the customer list"), choices=choices(EXPORT_SCOPES.items()))


def add_grade_fields():
    """Per-grade overrides: grade_A_follow_up_days, grade_A_deal_days, …"""
    for grade in GRADES:
        for kind, label in (("follow_up_days", _l("follow-up days")), ("deal_days", _l("days to win"))):
            setattr(
                SettingsForm,
                f"grade_{grade}_{kind}",
                IntegerField(f"{grade} · {label}", validators=[Optional(), NumberRange(*GRADE_PERIOD_RANGE)]),
            )


add_grade_fields()


class StrategyForm(Form):
    strategy = SelectField(
        _l("New leads"), choices=choices((s.value, label) for s, label in STRATEGY_LABELS.items())
    )


class ReasonForm(Form):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=pool.MAX_REASON)])


class ExtensionForm(Form):
    days = IntegerField(
        _l("Days"), default=7, validators=[InputRequired(), NumberRange(1, extensions.MAX_EXTENSION_DAYS)]
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=extensions.MAX_REASON)])


class ExtensionDecisionForm(Form):
    days = IntegerField(
        _l("Days to grant"), validators=[Optional(), NumberRange(1, extensions.MAX_EXTENSION_DAYS)]
    )
    note = StringField(_l("Remark"), validators=[Length(max=extensions.MAX_REASON)])


class CollisionForm(Form):
    reason = TextAreaField(
        _l("Why this customer is yours"),
        validators=[DataRequired(), Length(max=collisions.MAX_REASON)],
        description=_l("When and how you were in touch, with whom, what was agreed."),
    )


class DecisionForm(Form):
    decision = RadioField(
        _l("Decision"),
        choices=choices((d.value, label) for d, label in DECISION_LABELS.items()),
        validators=[InputRequired()],
    )
    note = TextAreaField(
        _l("Reason for the decision"), validators=[DataRequired(), Length(max=collisions.MAX_REASON)]
    )


class AssignForm(Form):
    user_id = SelectField(_l("Assign to"), coerce=int)
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=assignment.MAX_REASON)])


def assign_form(user, sellers=None, **kwargs):
    """The people `user` may assign to; sellers: everyone who can hold customers, when
    the page has them already."""
    form = AssignForm(**kwargs)
    form.user_id.choices = choices(
        (seller.id, f"{seller.display_name} · {seller.team_name or ''}")
        for seller in owner_choices(user, sellers)
    )
    return form

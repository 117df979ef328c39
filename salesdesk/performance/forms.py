"""The targets table's form: its inputs are read by target_table.read_form (one per
person and measure, named t-<user id>-<measure>); WTForms carries the CSRF token and
the reason a closed period's correction needs."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from ..forms import Form
from .target_table import REASON_LIMIT

ACTIONS = ("save", "copy", "split")


class TargetsForm(Form):
    """The table of an open period: its inputs only."""


class CorrectionForm(TargetsForm):
    """A closed period's table, which an admin corrects with a reason."""

    reason = StringField(
        _l("Why the targets of a closed period are corrected"),
        validators=[Optional(), Length(max=REASON_LIMIT)],
    )


class SettingsForm(Form):
    reps_see_ranking = BooleanField(_l("Reps see their team's ranking by won amount"))

"""The rule settings page's use case: limits, protection periods and per-grade periods,
checked, saved (audited) and applied to every reclaim date at once."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit, clock
from .. import settings as rule_settings
from ..database import write_transaction
from ..errors import DomainError, Forbidden
from ..settings import RuleSettings
from . import access
from .protection import recompute_all

SETTING_FIELDS = (
    "max_active_per_rep",
    "claims_per_day",
    "follow_up_days",
    "deal_days",
    "warning_days",
    "cooldown_days",
    "similarity_percent",
    "export_scope",
)
SETTING_RANGES = {
    "max_active_per_rep": (1, 100_000),
    "claims_per_day": (1, 10_000),
    "follow_up_days": (1, 3650),
    "deal_days": (1, 3650),
    "warning_days": (0, 365),
    "cooldown_days": (0, 3650),
    "similarity_percent": (50, 100),
}
GRADE_PERIOD_RANGE = (1, 3650)

audit.register_actions({"rules.settings_changed": _l("Rule settings changed")})


def update_settings(actor, values, grade_periods):
    """Save the settings (audited) and recompute every reclaim date under them."""
    if not access.may_change_rules(actor):
        raise Forbidden(_("Only administrators change the rules."))
    for name, (low, high) in SETTING_RANGES.items():
        if not isinstance(values.get(name), int) or not low <= values[name] <= high:
            raise DomainError(
                _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field=name
            )
    if values.get("export_scope") not in rule_settings.EXPORT_SCOPES:
        raise DomainError(_("Choose one of the offered values."), field="export_scope")
    low, high = GRADE_PERIOD_RANGE
    clean_grades = {}
    for grade, periods in grade_periods.items():
        kept = {key: days for key, days in periods.items() if days}
        if any(not isinstance(days, int) or not low <= days <= high for days in kept.values()):
            raise DomainError(_("Periods are whole days from 1 to 3650."), field=f"grade_{grade}")
        if kept:
            clean_grades[grade] = kept
    with write_transaction() as session:
        row = session.get(RuleSettings, 1)
        if row is None:
            row = RuleSettings(id=1)
            session.add(row)
            before = dict(rule_settings.DEFAULTS, grade_periods={})
        else:
            before = {name: getattr(row, name) for name in SETTING_FIELDS} | {
                "grade_periods": row.grade_periods
            }
        for name in SETTING_FIELDS:
            setattr(row, name, values[name])
        row.grade_periods = clean_grades
        row.updated_at = clock.now()
        after = dict(values, grade_periods=clean_grades)
        changes = {name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]}
        if changes:
            audit.record("rules.settings_changed", actor=actor, changes=changes)
        rule_settings.forget()
        recompute_all(row)
    return row

"""The recognition settings (budgets, limits, automatic points): one row, changed by
administrators, read by every rule that gives points."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from . import access
from .models import RecognitionSettings

SETTING_RANGES = {
    "award_monthly_budget": (0, 100_000),
    "award_max_points": (1, 10_000),
    "thanks_monthly_budget": (0, 1_000),
    "thanks_max_points": (1, 100),
    "thanks_per_colleague_weekly": (1, 100),
    "helpful_points": (1, 100),
    "helpful_monthly_cap": (1, 1_000),
    "won_points": (1, 10_000),
}

audit.register_actions({"recognition.settings": _l("Recognition settings changed")})


def is_whole_number(value):
    """An int that is not a bool (True would pass for 1 point)."""
    return isinstance(value, int) and not isinstance(value, bool)


def get_settings(session=None):
    session = session or db.session
    return session.get(RecognitionSettings, 1) or RecognitionSettings.defaults()


def update_settings(actor, **values):
    if not access.may_change_settings(actor):
        raise Forbidden(_("Only administrators can change the recognition settings."))
    for name, (low, high) in SETTING_RANGES.items():
        value = values.get(name)
        if not is_whole_number(value) or not low <= value <= high:
            raise DomainError(
                _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field=name
            )
    for name in ("helpful_enabled", "won_enabled"):
        if not isinstance(values.get(name), bool):
            raise DomainError(_("Choose on or off."), field=name)
    try:
        with write_transaction() as session:
            settings = session.get(RecognitionSettings, 1)
            if settings is None:
                settings = RecognitionSettings.defaults()
                session.add(settings)
            changes = {
                name: [getattr(settings, name), values[name]]
                for name in RecognitionSettings.FIELDS
                if getattr(settings, name) != values[name]
            }
            for name in RecognitionSettings.FIELDS:
                setattr(settings, name, values[name])
            settings.updated_at = clock.now()
            settings.updated_by_id = actor.id
            if changes:
                audit.record("recognition.settings", actor=actor, changes=changes)
    except IntegrityError as error:
        # Two administrators saved the very first settings at the same moment.
        raise Conflict(
            _("Someone else saved the settings at the same moment. Check them and save again.")
        ) from error
    return settings

"""Two people editing one customer at once: the row lock a write takes, and StaleEdit
for a form that was opened on an older version of the customer or of a contact."""

from flask_babel import gettext as _

from ..errors import Conflict
from ..extensions import db
from .models import Contact


class StaleEdit(Conflict):
    """The customer, or one of its contacts, changed since the form was opened: the view
    shows `record` as it is now."""

    def __init__(self, record):
        if isinstance(record, Contact):
            message = _(
                "Someone else saved this contact in the meantime. Here are the current values; "
                "enter your change again if it is still needed."
            )
        else:
            message = _(
                "Someone else saved this customer in the meantime. Here are the current values; "
                "enter your change again if it is still needed."
            )
        super().__init__(message)
        self.record = record


def lock_customer(customer):
    """Reload the customer under a row lock (PostgreSQL; SQLite's write lock is held
    already). Pending changes are flushed first so a nested caller loses none."""
    db.session.flush()
    db.session.refresh(customer, with_for_update=True)

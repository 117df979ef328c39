"""Custom-field changes on a customer's timeline: read from the audit events the edits
record (ledger/customers.update_customer keeps them under changes["custom"]), each
value shown through its field, so a renamed choice or a retired field still reads."""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit import AuditEvent
from ..extensions import db
from ..ledger.timeline import Described, TimelineItem, register_source
from . import types, values
from .definitions import all_fields


@register_source
def field_changes(customer, limit):
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.subject_type == "customers",
            AuditEvent.subject_id == customer.id,
            AuditEvent.action == "customer.updated",
        )
        .order_by(AuditEvent.at.desc())
        .limit(limit)
        .options(joinedload(AuditEvent.actor))
    ).all()
    events = [event for event in events if (event.details.get("changes") or {}).get("custom")]
    if not events:
        return []
    fields = {f.key: f for f in all_fields("customer")}
    changed = [event.details["changes"]["custom"] for event in events]
    names = values.user_names(
        fields.values(),
        [{key: pair[side] for key, pair in change.items()} for change in changed for side in (0, 1)],
    )
    items = []
    for event, change in zip(events, changed, strict=True):
        parts = []
        for key, (old, new) in change.items():
            f = fields.get(key)
            if f is None:
                continue
            label = f.label if f.active else _("%(field)s (retired)", field=f.label)
            parts.append(
                _(
                    "%(field)s: %(old)s → %(new)s",
                    field=label,
                    old=types.display(f, old, names) or "—",
                    new=types.display(f, new, names) or "—",
                )
            )
        if parts:
            description = _("changed %(changes)s", changes="; ".join(parts))
            items.append(TimelineItem("fields", event.at, event.actor, Described(description)))
    return items

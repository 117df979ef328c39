"""A customer's timeline: follow-ups, stage, ownership and collaborator changes, newest
first, read for the customer page."""

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from .models import CollaboratorEvent, FollowUp, OwnershipChange, StageChange


@dataclass
class TimelineItem:
    kind: str  # follow_up, stage, owner, collaborator
    at: object
    actor: object
    record: object


# (kind, model, its moment, its actor)
SOURCES = (
    ("follow_up", FollowUp, FollowUp.occurred_at, "author"),
    ("stage", StageChange, StageChange.at, "actor"),
    ("owner", OwnershipChange, OwnershipChange.at, "actor"),
    ("collaborator", CollaboratorEvent, CollaboratorEvent.at, "actor"),
)


@dataclass
class Described:
    """The record of another feature's timeline item: what the timeline says."""

    description: str


# Other features' entries on a customer's timeline (the support desk's requests, the
# custom fields' changes): functions (customer, limit) -> [TimelineItem] whose records
# have a `description` (a Described will do).
EXTRA_SOURCES = []


def register_source(source):
    EXTRA_SOURCES.append(source)
    return source


def timeline(customer, limit=200):
    """Follow-ups, stage, ownership and collaborator changes (and what other features
    add), newest first."""
    items = [item for source in EXTRA_SOURCES for item in source(customer, limit)]
    for kind, model, moment, actor in SOURCES:
        rows = db.session.scalars(
            select(model).where(model.customer_id == customer.id).order_by(moment.desc()).limit(limit)
        )
        items += [TimelineItem(kind, getattr(row, moment.key), getattr(row, actor), row) for row in rows]
    items.sort(key=lambda item: (item.at, item.kind == "follow_up"), reverse=True)
    return items[:limit]

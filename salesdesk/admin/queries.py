"""The admin's lists (users, audit log): filters parsed from the query string in one
place, leniently, so a hand-edited URL never errors."""

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..audit import ACTION_LABELS, AuditEvent
from ..auth.models import ROLE_LABELS, Team, User
from ..database import is_id
from ..extensions import db
from ..paging import paginate

PAGE_SIZE = 50
USER_STATUSES = ("active", "inactive", "all")
MAX_QUERY = 100


def _id(args, name):
    value = args.get(name, type=int)
    return value if is_id(value) else None


@dataclass
class UserFilters:
    q: str = ""
    role: str = ""
    team: int | None = None
    status: str = "active"

    @classmethod
    def from_args(cls, args):
        role = args.get("role", "")
        status = args.get("status", "active")
        return cls(
            q=args.get("q", "").strip()[:MAX_QUERY],
            role=role if role in ROLE_LABELS else "",
            team=_id(args, "team"),
            status=status if status in USER_STATUSES else "active",
        )


def users_page(filters, page):
    query = (
        select(User)
        .outerjoin(Team)
        .options(joinedload(User.team))
        .order_by(User.active.desc(), Team.name, User.role, User.display_name)
    )
    if filters.q:
        pattern = f"%{filters.q}%"
        query = query.where(or_(User.display_name.ilike(pattern), User.email.ilike(pattern)))
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.team:
        query = query.where(User.team_id == filters.team)
    if filters.status != "all":
        query = query.where(User.active.is_(filters.status == "active"))
    return paginate(query, page, PAGE_SIZE)


@dataclass
class AuditFilters:
    action: str = ""
    actor: int | None = None

    @classmethod
    def from_args(cls, args):
        action = args.get("action", "")
        return cls(action=action if action in ACTION_LABELS else "", actor=_id(args, "actor"))


def audit_page(filters, page):
    query = select(AuditEvent).options(joinedload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor_id == filters.actor)
    return paginate(query, page, PAGE_SIZE)


def member_counts():
    """team id -> how many accounts belong to it (deactivated ones too)."""
    return dict(db.session.execute(select(User.team_id, func.count()).group_by(User.team_id)).all())

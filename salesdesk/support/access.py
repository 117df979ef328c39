"""Who may do what on the support desk. Services ask these before they act; views hand
templates the answers as booleans.

A request sits in a queue: the support team of the handler group its type names, or the
company-wide queue. It is seen by its requester, the support users of its queue (and
its handler), the managers of the requester's team and admins; nobody else learns it
exists. Internal notes are for support, managers and admins."""

from datetime import timedelta

from sqlalchemy import or_, select

from ..auth.models import Role, User
from .models import Status


def is_support(user):
    return user.role == Role.SUPPORT


def serves_queue(user, team_id):
    """A support user working this queue (the company-wide queue is everyone's)."""
    return is_support(user) and (team_id is None or user.team_id == team_id)


def leads_queue(user, team_id):
    """Admins, and support leads of the queue: they assign requests and are warned
    before breaches."""
    return user.role == Role.ADMIN or (user.support_lead and serves_queue(user, team_id))


def may_file(user):
    return user.role in Role.SELLERS or user.role == Role.ADMIN


def manages_requester(user, request):
    return (
        user.role == Role.MANAGER and user.team_id is not None and request.requester.team_id == user.team_id
    )


def may_see(user, request):
    return (
        user.role == Role.ADMIN
        or request.requester_id == user.id
        or request.handler_id == user.id
        or serves_queue(user, request.team_id)
        or manages_requester(user, request)
    )


def may_see_notes(user, request):
    return may_see(user, request) and user.role in (Role.SUPPORT, Role.MANAGER, Role.ADMIN)


def visible_clause(user, model):
    """The requests `user` may see, as a WHERE clause over `model` (the requests table)."""
    if user.role == Role.ADMIN:
        return model.id.is_not(None)
    own = or_(model.requester_id == user.id, model.handler_id == user.id)
    if is_support(user):
        return or_(own, model.team_id.is_(None), model.team_id == user.team_id)
    if user.role == Role.MANAGER and user.team_id is not None:
        team = select(User.id).where(User.team_id == user.team_id).scalar_subquery()
        return or_(own, model.requester_id.in_(team))
    return own


def may_accept(user, request):
    """Accepting is the first response: the handler it was routed to, or any support
    user of the queue while nobody has it."""
    return (
        request.status == Status.NEW
        and serves_queue(user, request.team_id)
        and request.handler_id in (None, user.id)
    ) or (request.status == Status.NEW and leads_queue(user, request.team_id) and is_support(user))


def may_assign(user, request):
    return request.status in Status.OPEN and leads_queue(user, request.team_id)


def handles(user, request):
    """The handler, the queue's lead or an admin: they answer, return and resolve."""
    return request.handler_id == user.id or leads_queue(user, request.team_id)


def may_reply(user, request):
    if request.status in (Status.CLOSED, Status.CANCELLED) or not may_see(user, request):
        return False
    return request.requester_id == user.id or user.role in (Role.SUPPORT, Role.MANAGER, Role.ADMIN)


def may_write_note(user, request):
    return request.status != Status.CANCELLED and may_see_notes(user, request)


def may_return(user, request):
    return request.status == Status.IN_PROGRESS and handles(user, request)


def may_resolve(user, request):
    return request.status == Status.IN_PROGRESS and handles(user, request)


def may_confirm(user, request):
    return request.status == Status.RESOLVED and request.requester_id == user.id


def may_reopen(user, request, now, reopen_days):
    if request.requester_id != user.id:
        return False
    if request.status == Status.RESOLVED:
        return True
    return (
        request.status == Status.CLOSED
        and request.closed_at is not None
        and now - request.closed_at <= timedelta(days=reopen_days)
    )


def may_cancel(user, request):
    return request.status in Status.OPEN and (request.requester_id == user.id or user.role == Role.ADMIN)


def may_delete(user):
    return user.role == Role.ADMIN


def may_draft_article(user, request):
    """A handler turns a resolution into a KB draft (support may write articles)."""
    return (
        request.status in (Status.RESOLVED, Status.CLOSED)
        and request.kb_article_id is None
        and user.role in (Role.SUPPORT, Role.ADMIN)
        and may_see(user, request)
    )


def may_see_metrics(user):
    return user.role in (Role.MANAGER, Role.ADMIN) or (is_support(user) and user.support_lead)


def may_manage_types(user):
    return user.role == Role.ADMIN


def handlers_for(team_id):
    """The active support users who may handle a queue's requests, by name."""
    query = select(User).where(User.role == Role.SUPPORT, User.active.is_(True))
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return query.order_by(User.display_name, User.id)

"""Extensions (延期申请): an owner asks for more days before a customer returns to the
pool; the owner's manager grants or declines."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import clock
from ..auth.models import Role, User
from ..database import write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger import access as ledger_access
from ..ledger.models import Customer
from ..notifications import link, notify, register_kinds
from . import access
from .models import Extension, ExtensionStatus
from .protection import refresh_protection

MAX_EXTENSION_DAYS = 90
MAX_REASON = 500  # the request's reason and the decision's remark

register_kinds(
    {
        "extension.requested": _l("%(owner)s asks for %(days)s more days on %(customer)s"),
        "extension.granted": _l("You have %(days)s more days on %(customer)s"),
        "extension.declined": _l("Your extension request on %(customer)s was declined"),
    }
)


def request_extension(actor, customer_id, days, reason):
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise DomainError(_("Give a reason (at most 500 characters)."), field="reason")
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise DomainError(_("Ask for 1 to %(n)s days.", n=MAX_EXTENSION_DAYS), field="days")
    now = clock.now()
    with write_transaction() as session:
        customer = ledger_access.get_customer_for(actor, customer_id)
        refusal = access.extension_refusal(actor, customer, now)
        if refusal is not None:
            raise refusal
        extension = Extension(
            customer_id=customer.id,
            requested_by_id=actor.id,
            reason=reason,
            requested_days=days,
            requested_at=now,
        )
        session.add(extension)
        for decider in access.deciders(actor.team_id, actor.id):
            notify(
                decider,
                "extension.requested",
                link=link("rules.collisions") + "#extensions",
                owner=actor.display_name,
                days=days,
                customer=customer.name,
            )
    return extension


def get_extension_for(user, extension_id):
    """The extension request, if `user` may decide it; else NotFound or Forbidden."""
    extension = db.session.get(Extension, extension_id)
    if extension is None:
        raise NotFound(_("This request does not exist."))
    if not access.may_decide_extension(user, extension):
        raise Forbidden(_("The owner's manager decides extension requests, never the one who asked."))
    return extension


def decide_extension(actor, extension_id, *, grant, days=0, note=""):
    note = (note or "").strip()[:MAX_REASON]
    with write_transaction():
        extension = get_extension_for(actor, extension_id)
        customer = extension.customer
        if extension.status != ExtensionStatus.PENDING:
            raise DomainError(_("This request has been decided already."))
        if customer.owner_id != extension.requested_by_id:
            raise DomainError(_("The customer changed owner since the request; it no longer applies."))
        if grant and (not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS):
            raise DomainError(_("Grant 1 to %(n)s days.", n=MAX_EXTENSION_DAYS), field="days")
        extension.status = ExtensionStatus.GRANTED if grant else ExtensionStatus.DECLINED
        extension.granted_days = days if grant else 0
        extension.decided_by_id, extension.decided_at, extension.decision_note = actor.id, clock.now(), note
        customer_link = link("ledger.show", customer_id=customer.id)
        if grant:
            customer.extension_days += days
            refresh_protection(customer)
            notify(
                extension.requested_by_id,
                "extension.granted",
                link=customer_link,
                days=days,
                customer=customer.name,
            )
        else:
            notify(
                extension.requested_by_id, "extension.declined", link=customer_link, customer=customer.name
            )
    return extension


def pending_extensions(user):
    query = (
        select(Extension).where(Extension.status == ExtensionStatus.PENDING).order_by(Extension.requested_at)
    )
    if user.role != Role.ADMIN:
        query = (
            query.join(Customer)
            .join(User, User.id == Customer.owner_id)
            .where(User.team_id == user.team_id, Extension.requested_by_id != user.id)
        )
    return db.session.scalars(query).all()


def extensions_of(customer):
    """The customer's requests, newest first, with who asked (the panel shows them)."""
    return db.session.scalars(
        select(Extension)
        .options(joinedload(Extension.requested_by))
        .where(Extension.customer_id == customer.id)
        .order_by(Extension.requested_at.desc())
    ).all()

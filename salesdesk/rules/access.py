"""Who may do what with the pool, protection periods, collision reports and assignment:
decided here and nowhere else. Services refuse with these predicates, views hand their
answers to templates as booleans, and templates compare no roles.

Customers are held by sellers (`User.can_hold_customers`: active reps and managers of
a team); they claim, file collision reports and receive transfers. The owner's manager
and administrators release, assign, decide extensions and arbitrate. Follow-up text in
a collision report's evidence is for those who may see the customer's details
(ledger.access.can_see_details), like the customer's own timeline.
"""

from flask_babel import gettext as _
from sqlalchemy import or_, select, true

from ..auth.models import Role, User
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..ledger import access as ledger_access
from .models import CollisionReport, Extension, ExtensionStatus

# ---- the pool -----------------------------------------------------------------------------


def may_claim(user, customer=None):
    """Take customers from the pool: sellers; given a customer, while it is in the pool."""
    return user.can_hold_customers and (customer is None or customer.in_pool)


def may_release(user, customer):
    """Give an owned customer back to the pool: the owner, the owner's manager, admins."""
    return not customer.in_pool and ledger_access.can_manage_collaborators(user, customer)


# ---- protection periods and extensions ----------------------------------------------------


def extension_refusal(user, customer, now):
    """Why `user` may not ask now for an extension on `customer`: the error to raise, or
    None when they may."""
    if customer.owner_id != user.id:
        return Forbidden(_("Only the owner asks for an extension."))
    if customer.reclaim_at is None or customer.reclaim_at <= now:
        return DomainError(_("An extension is asked for before the customer returns to the pool."))
    pending = db.session.scalar(
        select(Extension.id).where(
            Extension.customer_id == customer.id, Extension.status == ExtensionStatus.PENDING
        )
    )
    if pending:
        return DomainError(_("An extension request for this customer is already waiting for a decision."))
    return None


def may_request_extension(user, customer, now):
    return extension_refusal(user, customer, now) is None


def may_see_extensions(user, customer):
    """A customer's extension requests: its owner, the owner's manager, admins."""
    return (
        customer.owner_id == user.id or user.role == Role.ADMIN or ledger_access.manages_owner(user, customer)
    )


def may_decide_extension(user, extension):
    """Grant or decline an extension request: the owner's manager, admins; never the one
    who asked (a manager's request on their own customer goes to an administrator)."""
    return extension.requested_by_id != user.id and (
        user.role == Role.ADMIN or ledger_access.manages_owner(user, extension.customer)
    )


def may_see_extension_requests(user):
    """The list of requests waiting for a decision (their team's, for managers)."""
    return user.role in (Role.MANAGER, Role.ADMIN)


# ---- collision reports ----------------------------------------------------------------------


def collision_refusal(user, customer):
    """Why `user` may not file a collision report on `customer`: the error to raise, or
    None when they may. Only sellers file: a report may end in a transfer to them."""
    if not user.can_hold_customers:
        return Forbidden(_("Only sales reps and managers file collision reports."))
    if customer.in_pool:
        return DomainError(_("This customer is in the public pool: claim it instead."))
    if customer.owner_id == user.id:
        return DomainError(_("You own this customer."))
    waiting = db.session.scalar(
        select(CollisionReport.id).where(
            CollisionReport.customer_id == customer.id,
            CollisionReport.reporter_id == user.id,
            CollisionReport.status == "open",
        )
    )
    if waiting:
        return DomainError(_("Your report on this customer is already waiting for a decision."))
    return None


def may_file_collision(user, customer):
    return collision_refusal(user, customer) is None


def deciders(team_id, *party_ids):
    """Who decides a request of the team (an extension, a collision report): its active
    managers who are not a party to it; the administrators when no such manager remains."""
    managers = db.session.scalars(
        select(User).where(
            User.team_id == team_id,
            User.role == Role.MANAGER,
            User.active.is_(True),
            User.id.not_in(party_ids),
        )
    ).all()
    if managers:
        return managers
    return db.session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True))).all()


def _arbitrates(user, report):
    """The manager of the owner's team (as it was when the report was filed), admins."""
    return user.role == Role.ADMIN or (user.role == Role.MANAGER and report.team_id == user.team_id)


def may_see_report(user, report):
    return _arbitrates(user, report) or user.id in (report.reporter_id, report.owner_id)


def reports_listed_clause(user):
    """SQL condition on CollisionReport: the reports in `user`'s lists; for managers
    their team's, for admins all, for others those they filed or that are about theirs."""
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.MANAGER:
        return CollisionReport.team_id == user.team_id
    return involving(user)


def involving(user):
    """SQL condition on CollisionReport: reports `user` filed or that are about theirs."""
    return or_(CollisionReport.reporter_id == user.id, CollisionReport.owner_id == user.id)


def may_decide(user, report):
    """Arbitrate a report that is still open; never a party to it (a manager who filed
    it, or whose customer it is about, leaves it to an administrator)."""
    return (
        report.status == "open"
        and _arbitrates(user, report)
        and user.id not in (report.reporter_id, report.owner_id)
    )


def may_transfer_to(user):
    """A transfer, by arbitration or assignment, goes only to someone who may hold customers."""
    return user is not None and user.can_hold_customers


def may_read_follow_ups(user, customer):
    """The text of follow-ups, in a report's evidence as on the customer's timeline."""
    return ledger_access.can_see_details(user, customer)


# ---- assignment ---------------------------------------------------------------------------


def may_assign(user):
    """Assign and transfer customers: managers (within their team) and admins."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_assign_customer(user, customer):
    """This customer: admins any; managers their team's, and pool customers of their
    team or of none."""
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.MANAGER and (
        ledger_access.manages_owner(user, customer)
        or (customer.in_pool and customer.team_id in (None, user.team_id))
    )


def may_assign_to(user, owner):
    """To this person: someone who may hold customers, of the manager's own team."""
    return may_transfer_to(owner) and (user.role == Role.ADMIN or owner.team_id == user.team_id)


# ---- settings and history -------------------------------------------------------------------


def may_see_rules(user):
    """Read the rule settings: managers (their own team's assignment and territories) and
    admins; reps and support see the limits where they apply (the pool page)."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_see_team_rules(user, team):
    """One team's assignment strategy and territories: admins any, managers their own."""
    return user.role == Role.ADMIN or (user.role == Role.MANAGER and team.id == user.team_id)


def may_change_rules(user):
    """Change limits, periods, strategies and territories: admins only (managers read)."""
    return user.role == Role.ADMIN


def may_see_ownership_history(user):
    """The company-wide ownership report (a customer's own history is on its page)."""
    return user.role == Role.ADMIN

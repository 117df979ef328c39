"""Automatic points: an article marked helpful, a customer won with colleagues' help, a
support request rated 5 stars.
They run inside the sender's write transaction (see receivers.py), once per cause."""

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..auth.models import User
from ..auth.services import lock_user
from ..database import write_transaction
from ..ledger.models import Collaborator, CollaboratorStatus
from ..notifications import link, notify, register_kinds
from . import access, summaries
from .entries import not_reversed
from .models import Category, Cause, Kind, PointEntry, helpful_reason, support_reason, won_reason
from .periods import month_bounds, this_month, user_zone
from .settings import get_settings

register_kinds(
    {
        "points.customer_won": _l("+%(points)s points: %(customer)s was won with your help"),
        "points.article_helpful": _l("+%(points)s points: a colleague found your article helpful"),
        "points.support_rated": _l("+%(points)s points: %(requester)s rated your support 5 stars"),
    }
)


def _in_default_locale(message):
    """The stored reason of a system entry (pages show it in the reader's language)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(message)


def _add_system_entry(session, cause_key, notice, **fields):
    """Insert once per cause_key and tell the recipient (`notice`: the notification's
    kind and parameters); None when it exists (also after a concurrent insert)."""
    if session.scalar(select(PointEntry.id).where(PointEntry.cause_key == cause_key)):
        return None
    now = clock.now()
    try:
        with session.begin_nested():
            entry = PointEntry(created_at=now, counted_at=now, cause_key=cause_key, **fields)
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    summaries.record(session, entry)
    kind, params = notice
    link_to = link("recognition.entry", entry_id=entry.id)
    notify(entry.recipient_id, kind, link=link_to, points=entry.points, **params)
    return entry


def points_for_helpful_article(article, voter, helpful, previous=None):
    """An article marked helpful by someone other than its author: +1 for the author,
    once per colleague and article, at most the monthly cap per article."""
    if not helpful or previous is True or voter is None:
        return None
    article_id = getattr(article, "id", None)
    author_id = getattr(article, "author_id", None)
    if article_id is None or author_id is None or author_id == voter.id:
        return None
    with write_transaction() as session:
        settings = get_settings(session)
        if not settings.helpful_enabled:
            return None
        author = lock_user(session, author_id)
        if not access.may_receive_points(author):
            return None
        zone = user_zone(author)
        since = month_bounds(this_month(clock.now(), zone), zone)[0]
        so_far = session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.article_id == article_id,
                PointEntry.cause == Cause.ARTICLE_HELPFUL,
                PointEntry.counted_at >= since,
                not_reversed(),
            )
        )
        points = settings.helpful_points
        if so_far + points > settings.helpful_monthly_cap:
            return None
        entry = _add_system_entry(
            session,
            f"helpful:{article_id}:{voter.id}",
            ("points.article_helpful", {}),
            kind=Kind.AUTOMATIC,
            recipient_id=author.id,
            points=points,
            category=Category.KNOWLEDGE,
            reason=_in_default_locale(helpful_reason()),
            article_id=article_id,
            cause=Cause.ARTICLE_HELPFUL,
        )
    return entry


def points_for_won_customer(customer):
    """+10 for every active collaborator of a customer that became won, once per customer."""
    with write_transaction() as session:
        settings = get_settings(session)
        if not settings.won_enabled:
            return []
        earlier_win = select(PointEntry.id).where(
            PointEntry.customer_id == customer.id, PointEntry.cause == Cause.CUSTOMER_WON
        )
        if session.scalar(earlier_win.limit(1)) is not None:
            # Won again after a reopening: colleagues added meanwhile would get points
            # outside any budget, as often as the owner toggles the stage.
            return []
        users = session.scalars(
            select(User)
            .join(Collaborator, Collaborator.user_id == User.id)
            .where(Collaborator.customer_id == customer.id, Collaborator.status == CollaboratorStatus.ACTIVE)
            # Ascending ids: concurrent writers lock summary rows in the same order.
            .order_by(User.id)
        ).all()
        entries = []
        for user in users:
            # The owner's win is their own target; the points reward helping.
            if user.id == customer.owner_id or not access.may_receive_points(user):
                continue
            entry = _add_system_entry(
                session,
                f"won:{customer.id}:{user.id}",
                ("points.customer_won", {"customer": customer.name}),
                kind=Kind.AUTOMATIC,
                recipient_id=user.id,
                points=settings.won_points,
                category=Category.DEAL,
                reason=_in_default_locale(won_reason(customer.name)),
                customer_id=customer.id,
                cause=Cause.CUSTOMER_WON,
            )
            if entry is not None:
                entries.append(entry)
    return entries


def points_for_five_star_support(request, settings):
    """A support request rated 5 stars: the support desk's settings' points for its
    handler, once per request, at most the monthly cap per handler. `settings` are the
    desk's (five_star_points, five_star_monthly_cap); 0 points switches it off."""
    points = settings.five_star_points
    handler_id = request.handler_id
    if points <= 0 or handler_id is None or handler_id == request.requester_id:
        return None
    with write_transaction() as session:
        # Locked: two ratings at once cannot both pass the cap.
        handler = lock_user(session, handler_id)
        if not access.may_receive_points(handler):
            return None
        zone = user_zone(handler)
        since = month_bounds(this_month(clock.now(), zone), zone)[0]
        so_far = session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.recipient_id == handler.id,
                PointEntry.cause == Cause.SUPPORT_RATED,
                PointEntry.counted_at >= since,
                not_reversed(),
            )
        )
        if so_far + points > settings.five_star_monthly_cap:
            return None
        return _add_system_entry(
            session,
            f"support:{request.id}",
            ("points.support_rated", {"requester": request.requester.display_name}),
            kind=Kind.AUTOMATIC,
            recipient_id=handler.id,
            points=points,
            # Helping a seller with their customer: collaboration, as 协作之星 counts it.
            category=Category.FOLLOW_UP,
            reason=_in_default_locale(support_reason()),
            cause=Cause.SUPPORT_RATED,
        )

"""Logging a follow-up (跟进记录) on a customer: what happened, and when to call again.
The follow-up forms import their limits from here."""

from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from .. import clock, signals
from ..database import write_transaction
from ..errors import DomainError
from ..extensions import db
from . import access
from .locking import lock_customer
from .models import CHANNEL_LABELS, FollowUp
from .validation import clean_choice, clean_text

MAX_CONTENT = 5000
MAX_NEXT_STEP = 500


def log_follow_up(
    actor, customer_id, *, channel, content, occurred_at=None, next_step="", next_follow_up_on=None
):
    now = clock.now()
    channel = clean_choice(channel, CHANNEL_LABELS, "channel")
    content = clean_text(content, MAX_CONTENT, "content", _l("What happened"), required=True)
    next_step = clean_text(next_step, MAX_NEXT_STEP, "next_step", _l("Next step"))
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise DomainError(_("A follow-up cannot be in the future."), field="occurred_at")
    local_day = occurred_at.astimezone(ZoneInfo(actor.timezone)).date()
    if next_follow_up_on is not None and next_follow_up_on < local_day:
        raise DomainError(_("The next follow-up date cannot be before this one."), field="next_follow_up_on")
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "follow_up")
        lock_customer(customer)
        follow_up = FollowUp(
            customer_id=customer.id,
            author_id=actor.id,
            channel=channel,
            content=content,
            occurred_at=occurred_at,
            next_step=next_step,
            next_follow_up_on=next_follow_up_on,
            created_at=now,
        )
        follow_up.previous_at, relinked = _link_into_history(customer.id, actor.id, occurred_at)
        session.add(follow_up)
        if customer.last_follow_up_at is None or occurred_at > customer.last_follow_up_at:
            customer.last_follow_up_at = occurred_at
        if next_follow_up_on is not None:
            customer.next_follow_up_on = next_follow_up_on
        elif customer.next_follow_up_on is not None and customer.next_follow_up_on <= local_day:
            # The follow-up that was due is done.
            customer.next_follow_up_on = None
        customer.updated_at = now
        signals.customer_changed.send(customer)
        signals.follow_up_logged.send(follow_up, author=actor, relinked=relinked)
    return follow_up


def _same_pair(customer_id, author_id):
    return and_(FollowUp.customer_id == customer_id, FollowUp.author_id == author_id)


def _link_into_history(customer_id, author_id, occurred_at):
    """The new follow-up's previous_at, and (the author's next follow-up of the customer,
    its previous_at before) when a backdated one becomes that follow-up's previous, else
    None. The customer is locked: the pair's history cannot change meanwhile. (A new row
    has the largest id, so it comes after the ones that happened at the same moment.)"""
    following = db.session.scalars(
        select(FollowUp)
        .where(_same_pair(customer_id, author_id), FollowUp.occurred_at > occurred_at)
        .order_by(FollowUp.occurred_at, FollowUp.id)
        .limit(1)
    ).first()
    relinked = None
    if following is not None:
        relinked = (following, following.previous_at)
        following.previous_at = occurred_at
    previous_at = db.session.scalar(
        select(func.max(FollowUp.occurred_at)).where(
            _same_pair(customer_id, author_id), FollowUp.occurred_at <= occurred_at
        )
    )
    return previous_at, relinked

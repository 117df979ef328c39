"""The chat outbox: messages are rows written in the event's transaction and posted after
the commit by a background sender (a thread started after the commit, and the periodic
job for retries), never in a user's request.

A sender claims rows in a write transaction (as the e-mail outbox does), so two
processes never post one message twice; the claim also respects each robot's rate
limit, counted from the attempts in the database, so it holds across processes. A
failed post is tried again with exponential back-off for 24 hours; a robot failing for
24 hours is shown as failing and the admins are told once. Messages are kept 30 days."""

import time
from datetime import timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import clock
from ..auth.models import Role, User
from ..database import write_transaction
from ..extensions import db
from ..jobs import periodic, start_in_background
from ..notifications import link, notify_once, register_kinds
from . import robots
from .models import ChatMessage, Connection

register_kinds({"chat.failing": _l("The chat group %(name)s has not received messages for 24 hours")})

# (messages, seconds) each robot accepts (their documented limits): 企业微信 and 钉钉
# 20 a minute; 飞书 5 a second and 100 a minute; a generic webhook gets 60 a minute.
RATE_LIMITS = {
    "wecom": ((20, 60),),
    "dingtalk": ((20, 60),),
    "feishu": ((5, 1), (100, 60)),
    "webhook": ((60, 60),),
}
BATCH = 20
FIRST_RETRY = timedelta(minutes=1)  # ≥ the rate window: a message counts once a window
LONGEST_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
FAILING_AFTER = timedelta(hours=24)
KEEP_FOR = timedelta(days=30)
# A claim this old belongs to a sender that died (posts time out after 5 s).
CLAIM_TIMEOUT = timedelta(minutes=2)
# One run posts what it can in this long; the rest waits for the next.
RUN_SECONDS = 50
SENDERS = []  # the background senders still running (tests wait for them)


def add(session, connection, message, dedupe_key=None):
    """Put `message` (a robots.Message) in the outbox of `connection`, in `session`'s
    transaction; a dedupe key already used for the connection adds nothing."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = clock.now()
    session.execute(
        module.insert(ChatMessage)
        .values(
            connection_id=connection.id,
            event=message.event,
            content=message.as_dict(),
            dedupe_key=dedupe_key,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
            claimed=False,
        )
        .on_conflict_do_nothing(index_elements=["connection_id", "dedupe_key"])
    )
    session.info["chat_messages"] = True


def retry_delay(attempts, retry_after=None):
    """1, 2, 4 … minutes after the attempts so far, at most an hour, and never sooner
    than the robot asked."""
    delay = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    return max(delay, timedelta(seconds=retry_after or 0))


def _allowance(session, connection, now):
    """(how many more messages the robot takes now, the windows in seconds that are
    full), from the attempts in its windows."""
    allowed, full = BATCH, set()
    for limit, seconds in RATE_LIMITS[connection.platform]:
        recent = session.scalar(
            select(func.count())
            .select_from(ChatMessage)
            .where(
                ChatMessage.connection_id == connection.id,
                ChatMessage.attempted_at > now - timedelta(seconds=seconds),
            )
        )
        if recent >= limit:
            full.add(seconds)
        allowed = min(allowed, limit - recent)
    return max(allowed, 0), full


def claim(now):
    """Take due messages, within each robot's rate limit: ([(message id, connection id)],
    whether a robot's limit per second held any back). The connections are locked first
    (PostgreSQL; SQLite's write transaction is one at a time anyway), so two senders
    count the same attempts."""
    with write_transaction() as session:
        due = (
            ChatMessage.sent_at.is_(None),
            ChatMessage.gave_up_at.is_(None),
            ChatMessage.next_attempt_at <= now,
            (ChatMessage.claimed.is_(False)) | (ChatMessage.attempted_at <= now - CLAIM_TIMEOUT),
        )
        connection_ids = session.scalars(
            select(ChatMessage.connection_id).where(*due).group_by(ChatMessage.connection_id)
        ).all()
        if not connection_ids:
            return [], False
        connections = session.scalars(
            select(Connection)
            .where(Connection.id.in_(connection_ids))
            .order_by(Connection.id)
            .with_for_update()
        ).all()
        claimed, held_for_a_second = [], False
        for connection in connections:
            if not connection.enabled:
                continue
            allowance, full = _allowance(session, connection, now)
            held_for_a_second |= full == {1}
            if not allowance:
                continue
            ids = session.scalars(
                select(ChatMessage.id)
                .where(ChatMessage.connection_id == connection.id, *due)
                .order_by(ChatMessage.next_attempt_at, ChatMessage.id)
                .limit(allowance)
            ).all()
            session.execute(
                update(ChatMessage)
                .where(ChatMessage.id.in_(ids))
                .values(claimed=True, attempted_at=now)
                .execution_options(synchronize_session=False)
            )
            claimed += [(message_id, connection.id) for message_id in ids]
        return claimed, held_for_a_second


def _post(message_id, connection_id):
    """Post one claimed message (outside any transaction: a slow robot holds no lock)."""
    connection = db.session.get(Connection, connection_id)
    message = db.session.get(ChatMessage, message_id)
    db.session.rollback()  # end the read: nothing held while the robot answers
    answer = robots.deliver(
        connection.platform,
        connection.url,
        connection.secret,
        robots.Message.from_dict(message.event, message.content),
        now=clock.now(),
        allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"],
    )
    record(message_id, answer)
    return answer


def record(message_id, answer, now=None):
    """Note the answer on the message and its connection: sent, or when to try again."""
    now = now or clock.now()
    with write_transaction() as session:
        message = session.get(ChatMessage, message_id)
        connection = session.get(Connection, message.connection_id)
        message.claimed = False
        message.last_answer = answer.summary[:300]
        if answer.ok:
            message.sent_at = now
            connection.last_success_at = now
            connection.failing_since = None
            connection.failing_announced = False
            return
        message.attempts += 1
        if now - message.created_at >= GIVE_UP_AFTER:
            message.gave_up_at = now
        else:
            message.next_attempt_at = now + retry_delay(message.attempts, answer.retry_after)
        connection.last_error_at = now
        connection.last_error = answer.summary[:300]
        connection.failing_since = connection.failing_since or now
        if now - connection.failing_since >= FAILING_AFTER and not connection.failing_announced:
            connection.failing_announced = True
            _tell_admins(session, connection)


def _tell_admins(session, connection):
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))).all()
    notify_once(
        session,
        "chat.failing",
        [
            {
                "user_id": admin_id,
                "link": link("chat.edit", connection_id=connection.id),
                "dedupe_key": f"chat-failing:{connection.id}:{connection.failing_since:%Y%m%d%H%M%S}",
                "params": {"name": connection.name},
            }
            for admin_id in admins
        ],
    )


def forget_old(now):
    """Messages older than 30 days go (sent, given up or not)."""
    with write_transaction() as session:
        return session.execute(delete(ChatMessage).where(ChatMessage.created_at < now - KEEP_FOR)).rowcount


@periodic("send-chat-messages", interval=timedelta(seconds=30))
def send_due():
    """Post what is due; returns how many were posted. A robot over its limit per second
    (飞书) is waited for; one over its limit per minute waits for the next run."""
    forget_old(clock.now())
    posted = 0
    started = time.monotonic()
    while time.monotonic() - started < RUN_SECONDS:
        batch, held_for_a_second = claim(clock.now())
        for message_id, connection_id in batch:
            posted += _post(message_id, connection_id).ok
        if not batch and not (held_for_a_second and clock.wait(1)):
            break
    return posted


@event.listens_for(Session, "after_commit")
def _post_soon(session):
    """Messages just committed: post them now, in the background, rather than at the
    next periodic run."""
    if session.info.pop("chat_messages", False) and has_app_context():
        start_in_background(send_due, SENDERS)


@event.listens_for(Session, "after_rollback")
def _forget_messages(session):
    session.info.pop("chat_messages", None)

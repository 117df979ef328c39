"""In-app notifications: one table and one helper every feature uses. The workbench
shows them (bell, list); features register the message of each kind they create."""

import logging
import smtplib
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from flask import current_app, has_app_context, has_request_context, url_for
from flask_babel import force_locale, format_date
from sqlalchemy import JSON, ForeignKey, Index, String, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .database import UTCDateTime, write_transaction
from .extensions import db
from .jobs import periodic, start_in_background
from .paging import paginate

# kind -> lazy message with %(name)s placeholders filled from the notification's
# params, or a function of the params for messages that translate codes or dates.
KINDS = {}


def register_kinds(messages):
    KINDS.update(messages)


def with_dates(message, *names):
    """A message whose params `names` hold ISO dates, shown in the reader's language."""

    def render(params):
        dates = {name: format_date(date.fromisoformat(params[name]), "long") for name in names}
        return str(message) % {**params, **dates}

    return render


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read_id", "user_id", "read_at", "id"),
        Index("ix_notifications_outbox", "emailed_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    # Makes "once per …" notifications (a daily reminder, say) idempotent, even
    # when two processes create them at the same moment.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # E-mail delivery (when enabled): the outbox is every notification not sent yet.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def message(self):
        template = KINDS.get(self.kind)
        if template is None:
            return self.kind
        return template(self.params) if callable(template) else str(template) % self.params


def link(endpoint, **values):
    """The path a notification links to, built with or without a request: services
    also run from the CLI and the scheduler, where `url_for` has no request to use."""
    if has_request_context():
        return url_for(endpoint, **values)
    root = current_app.config.get("APPLICATION_ROOT") or "/"
    return current_app.url_map.bind("localhost", script_name=root).build(endpoint, values)


def notify(user, kind, *, link=None, dedupe_key=None, **params):
    """Add a notification for `user` to the current transaction."""
    notification = Notification(
        user_id=user.id if hasattr(user, "id") else user,
        kind=kind,
        link=link,
        dedupe_key=dedupe_key,
        params=params,
        created_at=clock.now(),
    )
    db.session.add(notification)
    return notification


def notify_once(session, kind, rows):
    """Add notifications of `kind`, one per row (user_id, link, dedupe_key, params), in
    `session`'s transaction, skipping every dedupe key already used (INSERT … ON CONFLICT
    DO NOTHING): two processes adding the same ones at once add each once, without an
    error. Returns the ids of the users notified."""
    if not rows:
        return []
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = clock.now()
    added = session.scalars(
        module.insert(Notification)
        .values([{"kind": kind, "created_at": now, **row} for row in rows])
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Notification.user_id)
    ).all()
    if added:
        session.info["notified"] = True  # e-mailed after the commit, as notify()'s are
    return added


# ---- reading them ---------------------------------------------------------------------


def unread_count(user):
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def page_of(user, page, per_page, unread_only=False):
    """One page of the user's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return paginate(query.order_by(Notification.id.desc()), page, per_page)


def newest_id(user):
    return db.session.scalar(select(func.max(Notification.id)).where(Notification.user_id == user.id)) or 0


def mark_read(user, notification_id):
    """Mark one of the user's notifications read; returns it (None: not theirs)."""
    with write_transaction() as session:
        notification = session.get(Notification, notification_id)
        if notification is None or notification.user_id != user.id:
            return None
        if notification.read_at is None:
            notification.read_at = clock.now()
    return notification


def mark_all_read(user):
    with write_transaction() as session:
        return session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=clock.now())
        ).rowcount


# ---- e-mail ---------------------------------------------------------------------------

# Notifications older than this when mail gets switched on are not sent.
MAIL_WINDOW = timedelta(hours=24)
MAIL_BATCH = 50
SENDERS = []  # the background senders still running (tests wait for them)
log = logging.getLogger(__name__)


def _claim_outbox(now):
    """Take a batch of unsent notifications: the UPDATE … RETURNING claims them, so two
    senders never send one twice."""
    with write_transaction() as session:
        ids = session.scalars(
            select(Notification.id)
            .where(Notification.emailed_at.is_(None), Notification.created_at >= now - MAIL_WINDOW)
            .order_by(Notification.created_at, Notification.id)
            .limit(MAIL_BATCH)
        ).all()
        if not ids:
            return []
        claimed = session.scalars(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.emailed_at.is_(None))
            .values(emailed_at=now)
            .returning(Notification.id)
        ).all()
        return session.scalars(select(Notification).where(Notification.id.in_(claimed))).all()


def _compose(notification, user, config):
    message = EmailMessage()
    with force_locale(user.locale):
        text = notification.message
        message["Subject"] = f"[Salesdesk] {text}"
    message["From"] = config["MAIL_SENDER"]
    message["To"] = user.email
    link = config["MAIL_BASE_URL"].rstrip("/") + (notification.link or "/")
    message.set_content(f"{text}\n\n{link}\n")
    return message


@periodic("send-notification-mail")
def send_notification_mail():
    """Send e-mail copies of new notifications (after their transaction committed:
    only committed rows are read). A failed send is tried again on the next run."""
    from .auth.models import User

    config = current_app.config
    if not config["MAIL_ENABLED"]:
        return 0
    sent = 0
    while batch := _claim_outbox(clock.now()):
        users = {
            user.id: user
            for user in db.session.scalars(select(User).where(User.id.in_({n.user_id for n in batch})))
        }
        failed = []
        try:
            with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
                if config["MAIL_USE_TLS"]:
                    smtp.starttls()
                if config["MAIL_USERNAME"]:
                    smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
                for notification in batch:
                    user = users[notification.user_id]
                    if not user.active:
                        continue
                    try:
                        smtp.send_message(_compose(notification, user, config))
                        sent += 1
                    except smtplib.SMTPException:
                        failed.append(notification.id)
        except (OSError, smtplib.SMTPException):
            log.exception("sending notification e-mail failed; will try again")
            failed = [notification.id for notification in batch]
        if failed:
            with write_transaction() as session:
                session.execute(
                    update(Notification).where(Notification.id.in_(failed)).values(emailed_at=None)
                )
            break
    return sent


@event.listens_for(Session, "after_flush")
def _note_new_notifications(session, _context):
    if any(isinstance(obj, Notification) for obj in session.new):
        session.info["notified"] = True


@event.listens_for(Session, "after_commit")
def _send_soon(session):
    """A notification just committed: send its e-mail now, in the background, rather
    than at the next periodic run."""
    if session.info.pop("notified", False) and has_app_context() and current_app.config["MAIL_ENABLED"]:
        start_in_background(send_notification_mail, SENDERS)


@event.listens_for(Session, "after_rollback")
def _forget_new_notifications(session):
    session.info.pop("notified", None)

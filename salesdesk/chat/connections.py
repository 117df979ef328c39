"""Connections to chat groups, as an admin keeps them: saved after every check (the
address again at each send), the secret write-only, a test message on demand."""

import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from .. import audit, clock
from ..auth.models import Team
from ..database import is_id, write_transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from ..i18n import LANGUAGES
from . import addresses, outbox, robots
from .events import app_link
from .models import EVENT_LABELS, ChatMessage, Connection, Event

MAX_NAME = 80
MAX_SECRET = 200
WHITESPACE = re.compile(r"\s")

audit.register_actions(
    {
        "chat.connection_created": _l("Chat group connected"),
        "chat.connection_updated": _l("Chat group connection changed"),
        "chat.connection_deleted": _l("Chat group disconnected"),
    }
)


@dataclass(frozen=True)
class Values:
    name: str
    platform: str
    url: str
    secret: str  # "" keeps the saved one
    team_id: int | None
    events: tuple
    locale: str
    enabled: bool


class Status:
    """A connection's state on the admin page, in words."""

    OFF, UNUSED, OK, ERRORS, FAILING = "off", "unused", "ok", "errors", "failing"
    LABELS = {
        OFF: _l("Off"),
        UNUSED: _l("Nothing sent yet"),
        OK: _l("Working"),
        ERRORS: _l("Answered with an error"),
        FAILING: _l("Failing for 24 hours"),
    }


def status_of(connection, now=None):
    """Failing once the outbox has met errors for 24 hours; with errors when the last
    answer (a message's or a test's) was one."""
    now = now or clock.now()
    if not connection.enabled:
        return Status.OFF
    if connection.failing_since is not None and now - connection.failing_since >= outbox.FAILING_AFTER:
        return Status.FAILING
    last_error, last_success = connection.last_error_at, connection.last_success_at
    if last_error is not None and (last_success is None or last_error > last_success):
        return Status.ERRORS
    return Status.OK if last_success is not None else Status.UNUSED


def all_connections():
    return db.session.scalars(select(Connection).order_by(Connection.name, Connection.id)).all()


def waiting_counts():
    """{connection id: messages not sent yet and still tried}."""
    return dict(
        db.session.execute(
            select(ChatMessage.connection_id, func.count())
            .where(ChatMessage.sent_at.is_(None), ChatMessage.gave_up_at.is_(None))
            .group_by(ChatMessage.connection_id)
        ).all()
    )


def get_connection(connection_id):
    connection = db.session.get(Connection, connection_id) if is_id(connection_id) else None
    if connection is None:
        raise NotFound(_("This connection does not exist."))
    return connection


def allow_private():
    return current_app.config["WEBHOOK_ALLOW_PRIVATE"]


def _checked(values, connection=None):
    """The values to store, or DomainError on the field at fault."""
    name = (values.name or "").strip()
    if not name:
        raise DomainError(_("Give the connection a name, such as the group's."), field="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("The name is too long (at most %(max)s characters).", max=MAX_NAME), field="name")
    if values.platform not in robots.PLATFORMS:
        raise DomainError(_("Choose a platform from the list."), field="platform")
    url = addresses.check_url(values.url or "", allow_private=allow_private())
    secret = values.secret or ""
    if len(secret) > MAX_SECRET:
        raise DomainError(
            _("The secret is too long (at most %(max)s characters).", max=MAX_SECRET), field="secret"
        )
    if WHITESPACE.search(secret):
        raise DomainError(_("The secret must not contain spaces or line breaks."), field="secret")
    needs = robots.NEEDS_SECRET[values.platform]
    if secret and needs == robots.Secret.NONE:
        raise DomainError(_("This robot has no secret: its key is part of the address."), field="secret")
    if secret and values.platform == "dingtalk" and not secret.startswith("SEC"):
        raise DomainError(_("A DingTalk signing secret starts with SEC."), field="secret")
    kept = connection.secret if connection is not None and connection.platform == values.platform else None
    if needs == robots.Secret.REQUIRED and not (secret or kept):
        raise DomainError(_("This kind of webhook needs a secret to sign its messages."), field="secret")
    if values.team_id is not None and db.session.get(Team, values.team_id) is None:
        raise DomainError(_("Choose a team from the list."), field="team_id")
    unknown = set(values.events) - set(Event)
    if unknown:
        raise DomainError(_("Choose events from the list."), field="events")
    if values.locale not in LANGUAGES:
        raise DomainError(_("Choose a language from the list."), field="locale")
    stored = {
        "name": name,
        "platform": values.platform,
        "url": url,
        "team_id": values.team_id,
        "events": [event.value for event in Event if event in values.events],
        "locale": values.locale,
        "enabled": bool(values.enabled),
    }
    if needs == robots.Secret.NONE:
        stored["secret"] = None
    elif secret:
        stored["secret"] = secret
    elif kept is None:
        stored["secret"] = None  # another platform's secret means nothing here
    return stored


def create_connection(actor, values):
    stored = _checked(values)
    with write_transaction() as session:
        now = clock.now()
        connection = Connection(**stored, created_at=now, updated_at=now)
        session.add(connection)
        session.flush()
        audit.record("chat.connection_created", actor=actor, subject=connection, name=connection.name)
    return connection


def update_connection(actor, connection_id, values):
    with write_transaction():
        connection = get_connection(connection_id)
        stored = _checked(values, connection)
        changed = sorted(key for key, value in stored.items() if getattr(connection, key) != value)
        for key, value in stored.items():
            setattr(connection, key, value)
        connection.updated_at = clock.now()
        # Which fields changed, never their values: the address holds the robot's key.
        audit.record(
            "chat.connection_updated", actor=actor, subject=connection, name=connection.name, changed=changed
        )
    return connection


def delete_connection(actor, connection_id):
    with write_transaction() as session:
        connection = get_connection(connection_id)
        name = connection.name
        session.execute(delete(ChatMessage).where(ChatMessage.connection_id == connection.id))
        audit.record("chat.connection_deleted", actor=actor, subject=connection, name=name)
        session.delete(connection)
    return name


def sample_message(connection):
    """The test message, in the group's language."""
    with force_locale(connection.locale):
        return robots.Message(
            event="test",
            title=_("Test message from Salesdesk"),
            lines=[
                _("This group is connected: %(name)s.", name=connection.name),
                _(
                    "It will receive: %(events)s.",
                    events=_("、").join(str(EVENT_LABELS[Event(event)]) for event in connection.events)
                    or _("nothing yet"),
                ),
            ],
            link=app_link("workbench.home"),
            link_label=_("Open Salesdesk"),
            data={"connection": connection.name},
        )


def send_test(connection_id):
    """Post the sample message now (the admin asked and waits, at most the 5 s timeout)
    and note the answer on the connection."""
    connection = get_connection(connection_id)
    answer = robots.deliver(
        connection.platform,
        connection.url,
        connection.secret,
        sample_message(connection),
        now=clock.now(),
        allow_private=allow_private(),
    )
    with write_transaction():
        connection = get_connection(connection_id)
        now = clock.now()
        if answer.ok:
            connection.last_success_at = now
            connection.failing_since = None
            connection.failing_announced = False
        else:
            connection.last_error_at, connection.last_error = now, answer.summary[:300]
    return answer

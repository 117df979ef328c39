"""Accounts: logging in (with throttling), passwords, and managing users and teams."""

import hashlib
import math
import secrets
from datetime import timedelta
from functools import cache
from zoneinfo import available_timezones

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, true, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit, clock, signals
from ..database import write_transaction
from ..errors import DomainError, Forbidden, TooManyRequests
from ..extensions import db
from ..i18n import LANGUAGES
from ..jobs import periodic
from .models import LoginFailure, Role, Team, User, UserSession, normalize_email

MIN_PASSWORD_LENGTH = 8


@cache
def _dummy_hash(method):
    # Checked against when the account does not exist, so that a wrong e-mail
    # costs the same time as a wrong password.
    return generate_password_hash("not-a-real-password", method)


def authenticate(email, password, ip=None):
    """Return the user for a correct login, or raise with what the login page shows.

    Failures are counted in the database, so the limits hold across every app process:
    per account *and* client address (an outsider cannot lock a colleague out of the
    office), and per address across accounts (password spraying is slowed down).
    """
    email = normalize_email(email)
    ip = ip or ""
    now = clock.now()
    with write_transaction() as session:
        retry_at, message = _throttled_until(session, email, ip, now)
        if retry_at is not None:
            audit.record("login.throttled", email=email, ip=ip)
        else:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
                valid = False
            else:
                valid = user.check_password(password)
            if valid and user.active:
                cleared = delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.ip == ip)
                session.execute(cleared)
                user.last_login_at = now
                audit.record("login.success", actor=user, subject=user, ip=ip)
                return user
            session.add(LoginFailure(email=email, at=now, ip=ip))
            audit.record(
                "login.failure",
                actor=user,
                email=email,
                ip=ip,
                reason="inactive" if valid else "password",
            )
    if retry_at is not None:
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        raise TooManyRequests(message % {"minutes": minutes})
    if valid:
        raise DomainError(_("This account has been deactivated. Ask an administrator."))
    raise DomainError(_("Wrong e-mail address or password."))


def _throttled_until(session, email, ip, now):
    """(when the client may try again, the message) or (None, None)."""
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"])
    checks = (
        (
            LoginFailure.email == email,
            config["LOGIN_MAX_FAILURES"],
            _("Too many failed logins for this account. Try again in %(minutes)s minutes."),
        ),
        (
            true(),
            config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            _("Too many failed logins from your network. Try again in %(minutes)s minutes."),
        ),
    )
    for condition, limit, message in checks:
        recent = session.scalars(
            select(LoginFailure.at)
            .where(condition, LoginFailure.ip == ip, LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            return recent[-1] + window, message
    return None, None


def _check_password_strength(password):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("The password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )


def start_session(user):
    """A new login for `user`: its token goes into the cookies (through get_id), the
    database keeps only the token's hash."""
    token = secrets.token_urlsafe(32)
    with write_transaction() as session:
        login = UserSession(user_id=user.id, token_hash=_token_hash(token))
        session.add(login)
    user.login_token, user.login_session_id = token, login.id
    return user


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def record_logout(user):
    """End this login on the server: its session and remember-me cookies stop working,
    copies included."""
    with write_transaction() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id == user.login_session_id, UserSession.ended_at.is_(None))
            .values(ended_at=clock.now())
        )
        audit.record("logout", actor=user, subject=user)


def _end_every_session(session, user):
    user.session_version += 1
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


def log_out_everywhere(user):
    with write_transaction() as session:
        _end_every_session(session, user)
        audit.record("logout.everywhere", actor=user, subject=user)


@periodic("forget-ended-sessions", interval=timedelta(hours=6))
def forget_ended_sessions():
    """Ended logins are kept a day for the record, live ones as long as a remember-me
    cookie lasts."""
    now = clock.now()
    with write_transaction() as session:
        session.execute(
            delete(UserSession).where(
                or_(
                    UserSession.ended_at < now - timedelta(days=1),
                    UserSession.started_at < now - current_app.config["REMEMBER_COOKIE_DURATION"],
                )
            )
        )


def change_password(user, current_password, new_password):
    if not user.check_password(current_password):
        raise DomainError(_("The current password is not correct."), field="current_password")
    _check_password_strength(new_password)
    with write_transaction() as session:
        user.set_password(new_password)
        _end_every_session(session, user)
        audit.record("password.changed", actor=user, subject=user)


def set_language(user, locale):
    if locale not in LANGUAGES:
        raise DomainError(_("Unknown language."))
    with write_transaction():
        user.locale = locale


def get_or_create_team(name, actor=None):
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A team needs a name."), field="name")
    with write_transaction() as session:
        team = session.scalar(select(Team).where(Team.name == name))
        if team is None:
            team = Team(name=name)
            session.add(team)
            audit.record("team.created", actor=actor, subject=team, name=name)
    return team


def _check_team_fields(session, name, timezone, except_team=None):
    if timezone not in available_timezones():
        raise DomainError(_("Unknown time zone."), field="timezone")
    query = select(Team.id).where(Team.name == name)
    if except_team is not None:
        query = query.where(Team.id != except_team.id)
    if session.scalar(query) is not None:
        raise DomainError(_("A team with this name already exists."), field="name")


def create_team(*, name, timezone, actor):
    name = name.strip()
    with write_transaction() as session:
        _check_team_fields(session, name, timezone)
        team = Team(name=name, timezone=timezone)
        session.add(team)
        audit.record("team.created", actor=actor, subject=team, name=name)
    return team


def update_team(team, *, name, timezone, actor):
    name = name.strip()
    with write_transaction() as session:
        _check_team_fields(session, name, timezone, except_team=team)
        changes = {
            key: [old, new]
            for key, old, new in (("name", team.name, name), ("timezone", team.timezone, timezone))
            if old != new
        }
        team.name, team.timezone = name, timezone
        if changes:
            audit.record("team.updated", actor=actor, subject=team, changes=changes)
        if "timezone" in changes:
            members = session.scalars(select(User.id).where(User.team_id == team.id)).all()
            signals.people_rezoned.send(team, user_ids=members)


def _email_taken(session, email, except_user=None):
    query = select(User.id).where(User.email == normalize_email(email))
    if except_user is not None:
        query = query.where(User.id != except_user.id)
    return session.scalar(query) is not None


def _check_team_for_role(role, team):
    if Role(role) != Role.ADMIN and team is None:
        raise DomainError(_("Everyone but administrators belongs to a team."), field="team")


def create_user(*, email, display_name, role, password, team=None, locale="zh_Hans_CN", actor=None):
    role = Role(role)
    _check_team_for_role(role, team)
    _check_password_strength(password)
    with write_transaction() as session:
        if _email_taken(session, email):
            raise DomainError(_("A user with this e-mail address already exists."), field="email")
        user = User(
            email=email,
            display_name=display_name.strip(),
            role=role,
            team=team,
            locale=locale,
        )
        user.set_password(password)
        session.add(user)
        audit.record("user.created", actor=actor, subject=user, email=user.email, role=role)
    return user


def teams():
    """Every team by name: the choices of team pickers and filters."""
    return db.session.scalars(select(Team).order_by(Team.name)).all()


def everyone():
    """Every user by name, deactivated ones too: filters over history name former colleagues."""
    return db.session.scalars(select(User).order_by(User.display_name)).all()


def sellers(team_id=None):
    """Active reps and managers, the people who hold customers, of one team or of all,
    by team and name. Rows (id, display_name, role, team_id, team_name), not users:
    filters and pickers list hundreds of them on every page."""
    query = (
        select(User.id, User.display_name, User.role, User.team_id, Team.name.label("team_name"))
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.can_hold_customers)
        .order_by(User.team_id, User.display_name)
    )
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return db.session.execute(query).all()


def lock_user(session, user_id):
    """The user's row, locked until the transaction ends: serialises one person's
    limited actions (claims, point budgets) on PostgreSQL, so two parallel requests
    cannot both pass a limit. SQLite's BEGIN IMMEDIATE already serialises writers."""
    return session.execute(
        select(User)
        .where(User.id == user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _active_admin_count(session):
    return session.scalar(select(func.count()).where(User.role == Role.ADMIN, User.active.is_(True)))


def _user_fields(user):
    """What a "user.updated" event compares."""
    return {
        "email": user.email,
        "role": user.role,
        "team_id": user.team_id,
        "name": user.display_name,
        "support_lead": user.support_lead,
    }


def update_user(user, *, actor, email, display_name, role, team, locale, support_lead=None):
    """`support_lead`: None leaves it; only a support user can lead a support queue."""
    role = Role(role)
    _check_team_for_role(role, team)
    with write_transaction() as session:
        if _email_taken(session, email, except_user=user):
            raise DomainError(_("A user with this e-mail address already exists."), field="email")
        if user.role == Role.ADMIN and role != Role.ADMIN and _active_admin_count(session) <= 1:
            raise DomainError(_("The last administrator cannot lose the role."), field="role")
        before = _user_fields(user)
        zone_before = user.timezone
        user.email = email
        user.display_name = display_name.strip()
        user.role = role
        user.team = team
        user.locale = locale
        if support_lead is not None or role != Role.SUPPORT:
            user.support_lead = bool(support_lead) and role == Role.SUPPORT
        after = _user_fields(user)
        changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
        if changes:
            audit.record("user.updated", actor=actor, subject=user, changes=changes)
        if user.timezone != zone_before:
            signals.people_rezoned.send(user, user_ids=[user.id])


def reset_password(user, *, actor, password):
    _check_password_strength(password)
    with write_transaction() as session:
        user.set_password(password)
        _end_every_session(session, user)
        audit.record("user.updated", actor=actor, subject=user, changes={"password": "reset"})


def deactivate_user(user, *, actor, successor=None):
    """Deactivate, and hand the user's customers to `successor` (None: the pool) in the
    same transaction, so nothing is left with an inactive owner."""
    if user.id == actor.id:
        raise Forbidden(_("You cannot deactivate yourself."))
    if successor is not None and (successor.id == user.id or not successor.can_hold_customers):
        raise DomainError(_("The successor must be another active rep or manager."), field="successor_id")
    with write_transaction() as session:
        if user.role == Role.ADMIN and _active_admin_count(session) <= 1:
            raise DomainError(_("The last administrator cannot be deactivated."))
        user.active = False
        _end_every_session(session, user)
        signals.user_deactivated.send(user, actor=actor, successor=successor)
        audit.record(
            "user.deactivated", actor=actor, subject=user, successor=successor.id if successor else None
        )


def reactivate_user(user, *, actor):
    with write_transaction():
        user.active = True
        audit.record("user.reactivated", actor=actor, subject=user)


def load_user_session(session_id):
    """Flask-Login's loader: an active user whose login has not ended and whose session
    version still matches. One query: it runs on every request. It brings the user's
    team, which every page's account menu names."""
    if g.get("user_unavailable"):
        return None  # the error page of a failed load renders for nobody, without asking again
    user_id, version, token = ((session_id or "").split(".", 2) + ["", ""])[:3]
    if not (user_id.isdigit() and version.isdigit() and token):
        return None
    try:
        row = db.session.execute(
            select(User, UserSession.id)
            .join(UserSession, UserSession.user_id == User.id)
            .options(joinedload(User.team))
            .where(
                User.id == int(user_id),
                UserSession.token_hash == _token_hash(token),
                UserSession.ended_at.is_(None),
            )
        ).first()
    except SQLAlchemyError:
        g.user_unavailable = True
        raise
    if row is None:
        return None
    user, login_session_id = row
    if not user.active or user.session_version != int(version):
        return None
    user.login_token, user.login_session_id = token, login_session_id
    return user

"""The demo company: an administrator and three regional teams (data/company.toml),
created through the accounts' services; and the logins `salesdesk demo` prints."""

from datetime import timedelta

from sqlalchemy import select

from .. import clock
from ..auth import services
from ..auth.models import Role, Team, User
from ..database import write_transaction
from ..extensions import db
from .words import ADMIN, TEAMS

DEMO_PASSWORD = "salesdesk-demo"
DOMAIN = "salesdesk.example"


def email(login):
    return f"{login}@{DOMAIN}"


def _people():
    """(login, name, role, team name, days since joining) for everyone in the demo."""
    yield (*ADMIN, Role.ADMIN, None, 720)
    for team_name, staff in TEAMS.items():
        yield (*staff["manager"], Role.MANAGER, team_name, 600)
        yield (*staff["support"], Role.SUPPORT, team_name, 400)
        reps = staff["reps"]
        for position, (login, name) in enumerate(reps):
            # Staggered hire dates; the last rep joined ten days ago.
            yield login, name, Role.REP, team_name, 10 + 120 * (len(reps) - 1 - position)


def seed():
    if db.session.scalar(select(User.id).where(User.email == email(ADMIN[0]))):
        return
    now = clock.now()
    with write_transaction():
        teams = {name: services.get_or_create_team(name) for name in TEAMS}
        for login, name, role, team_name, days in _people():
            user = services.create_user(
                email=email(login),
                display_name=name,
                role=role,
                password=DEMO_PASSWORD,
                team=teams.get(team_name),
            )
            user.created_at = now - timedelta(days=days)


def logins():
    users = db.session.scalars(
        select(User).outerjoin(Team).where(User.email.like(f"%@{DOMAIN}")).order_by(Team.name, User.id)
    )
    return [(u.email, u.display_name, u.role, u.team.name if u.team else "") for u in users]

"""The demo company: an administrator and three regional teams."""

from datetime import timedelta

from sqlalchemy import select

from .. import clock
from ..database import write_transaction
from ..extensions import db
from . import services
from .models import Role, Team, User

DEMO_PASSWORD = "salesdesk-demo"
DOMAIN = "salesdesk.example"

ADMIN = ("qian.li", "钱立")
# team name -> manager, support, reps (the last rep is the newest hire)
TEAMS = {
    "华东大区": {
        "manager": ("wang.jianguo", "王建国"),
        "support": ("yang.fan", "杨帆"),
        "reps": [("li.na", "李娜"), ("zhang.wei", "张伟"), ("liu.yang", "刘洋"), ("chen.jing", "陈静")],
    },
    "华南大区": {
        "manager": ("huang.zhiqiang", "黄志强"),
        "support": ("luo.min", "罗敏"),
        "reps": [
            ("lin.xiaoyan", "林晓燕"),
            ("wu.junjie", "吴俊杰"),
            ("zheng.li", "郑丽"),
            ("he.lei", "何磊"),
        ],
    },
    "华北大区": {
        "manager": ("zhao.gang", "赵刚"),
        "support": ("xu.ting", "许婷"),
        "reps": [("sun.yue", "孙悦"), ("zhou.peng", "周鹏"), ("ma.lin", "马琳"), ("gao.xiang", "高翔")],
    },
}


def _email(login):
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
    if db.session.scalar(select(User.id).where(User.email == _email(ADMIN[0]))):
        return
    now = clock.now()
    with write_transaction():
        teams = {name: services.get_or_create_team(name) for name in TEAMS}
        for login, name, role, team_name, days in _people():
            user = services.create_user(
                email=_email(login),
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

"""Reading and onboarding paths: an ordered list of articles that a manager assigns to
the people of their team with a due date, and everyone's progress through it."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, clock
from ..auth.models import User
from ..database import write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..notifications import link, notify, register_kinds, with_dates
from . import access
from .models import Article, Assignment, PathItem, ReadingPath, Status
from .reading import READ, REREAD, read_versions, reading_states

MAX_NAME = 80
MAX_DESCRIPTION = 500

register_kinds(
    {
        "reading.assigned": with_dates(
            _l("%(by)s assigned you the reading path “%(path)s”, due %(due)s."), "due"
        )
    }
)
audit.register_actions({"kb.path.assigned": _l("Reading path assigned")})


def user_paths_with(user, article):
    """The user's assigned paths that contain the article."""
    return db.session.scalars(
        select(ReadingPath)
        .join(Assignment, Assignment.path_id == ReadingPath.id)
        .join(PathItem, PathItem.path_id == ReadingPath.id)
        .where(Assignment.user_id == user.id, PathItem.article_id == article.id)
        .order_by(ReadingPath.name)
    ).all()


def _check_path_fields(session, name, description, except_id=None):
    name, description = (name or "").strip(), (description or "").strip()
    if not name:
        raise DomainError(_("A reading path needs a name."), field="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("The name is too long (at most 80 characters)."), field="name")
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(_("The description is too long (at most 500 characters)."), field="description")
    query = select(ReadingPath.id).where(ReadingPath.name == name)
    if except_id:
        query = query.where(ReadingPath.id != except_id)
    if session.scalar(query) is not None:
        raise DomainError(_("A reading path with this name exists already."), field="name")
    return name, description


def create_path(*, name, description="", actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        name, description = _check_path_fields(session, name, description)
        now = clock.now()
        path = ReadingPath(
            name=name, description=description, created_by_id=actor.id, created_at=now, updated_at=now
        )
        session.add(path)
    return path


def update_path(path, *, name, description="", actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        name, description = _check_path_fields(session, name, description, except_id=path.id)
        path.name, path.description, path.updated_at = name, description, clock.now()
    return path


def get_path(path_id):
    path = db.session.get(ReadingPath, path_id) if isinstance(path_id, int) else None
    if path is None:
        raise NotFound(_("This reading path does not exist."))
    return path


def addable_articles(path):
    """The published articles not in the path yet, by title."""
    taken = {item.article_id for item in path.items}
    articles = db.session.scalars(
        select(Article).where(Article.status == Status.PUBLISHED).order_by(Article.title)
    ).all()
    return [article for article in articles if article.id not in taken]


def add_to_path(path, article_id, *, actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        article = session.get(Article, article_id) if isinstance(article_id, int) else None
        if article is None:
            raise DomainError(_("Unknown article."), field="article_id")
        if session.get(PathItem, (path.id, article.id)) is not None:
            raise DomainError(_("This article is in the path already."), field="article_id")
        position = session.scalar(
            select(func.coalesce(func.max(PathItem.position), 0) + 1).where(PathItem.path_id == path.id)
        )
        session.add(PathItem(path_id=path.id, article_id=article.id, position=position))
        path.updated_at = clock.now()


def move_in_path(path, article_id, *, offset, actor):
    """Swap an article with its neighbour above (offset -1) or below (+1)."""
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        items = session.scalars(
            select(PathItem)
            .where(PathItem.path_id == path.id)
            .order_by(PathItem.position, PathItem.article_id)
        ).all()
        index = next((i for i, item in enumerate(items) if item.article_id == article_id), None)
        if index is None:
            raise NotFound(_("This article is not in the path."))
        other = index + offset
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
        for position, item in enumerate(items, start=1):
            item.position = position
        path.updated_at = clock.now()


def remove_from_path(path, article_id, *, actor):
    if not access.may_manage_paths(actor):
        raise Forbidden(_("Only editors can change reading paths."))
    with write_transaction() as session:
        item = session.get(PathItem, (path.id, article_id))
        if item is None:
            raise NotFound(_("This article is not in the path."))
        session.delete(item)
        path.updated_at = clock.now()


def assignable_users(actor):
    query = select(User).where(User.active.is_(True)).order_by(User.team_id, User.display_name)
    if not access.sees_every_team(actor):
        query = query.where(User.team_id == actor.team_id)
    return db.session.scalars(query).all() if access.may_assign_paths(actor) else []


def assign_path(path, *, user_id, due_on, actor):
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        raise DomainError(_("Unknown user."), field="user_id")
    if not access.may_assign_paths(actor, user):
        raise Forbidden(_("Managers assign reading paths to the people of their own team."))
    if not isinstance(due_on, date):
        raise DomainError(_("Choose a due date."), field="due_on")
    today = clock.today(actor.timezone)
    if due_on < today or due_on > today + timedelta(days=366):
        raise DomainError(_("The due date must be between today and a year from now."), field="due_on")
    with write_transaction() as session:
        assignment = session.scalar(
            select(Assignment).where(Assignment.path_id == path.id, Assignment.user_id == user.id)
        )
        if assignment is None:
            assignment = Assignment(
                path_id=path.id,
                user_id=user.id,
                assigned_by_id=actor.id,
                due_on=due_on,
                created_at=clock.now(),
            )
            session.add(assignment)
        assignment.assigned_by_id = actor.id
        assignment.due_on = due_on
        session.flush()
        notify(
            user,
            "reading.assigned",
            link=link("kb.path", path_id=path.id),
            by=actor.display_name,
            path=path.name,
            due=due_on.isoformat(),
        )
        audit.record(
            "kb.path.assigned", actor=actor, subject=assignment, user_id=user.id, due=due_on.isoformat()
        )
    return assignment


def unassign_path(assignment, *, actor):
    if not access.may_assign_paths(actor, assignment.user):
        raise Forbidden(_("Managers assign reading paths to the people of their own team."))
    with write_transaction() as session:
        session.delete(assignment)


@dataclass
class Progress:
    path: ReadingPath
    assignment: Assignment | None
    items: list  # (article, state) in path order; unpublished articles left out
    done: int
    total: int
    rereads: int

    @property
    def percent(self):
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def complete(self):
        return self.done >= self.total

    @property
    def overdue(self):
        return (
            bool(self.assignment)
            and not self.complete
            and self.assignment.due_on < clock.today(self.assignment.user.timezone)
        )


def path_articles(path):
    return [item.article for item in path.items if item.article.is_published]


def progress(path, user, assignment=None, receipts=None):
    articles = path_articles(path)
    states = reading_states(user, articles, receipts)
    items = [(article, states[article.id]) for article in articles]
    done = sum(1 for _article, state in items if state == READ)
    rereads = sum(1 for _article, state in items if state == REREAD)
    return Progress(path, assignment, items, done, len(items), rereads)


def next_article(article, rows):
    """下一篇 once `article` is confirmed: in the first of the reader's paths (`rows`,
    their Progress) that holds it, the next article they have not confirmed, after
    this one and then from the start; when such a path is all read, the next article of
    its category by title."""
    for row in rows:
        order = [item for item, _state in row.items]
        if article not in order:
            continue
        at = order.index(article)
        following = row.items[at + 1 :] + row.items[:at]
        unread = next((item for item, state in following if state != READ), None)
        if unread is not None:
            return unread
    return next_in_category(article)


def next_in_category(article):
    if article.category_id is None:
        return None
    return db.session.scalar(
        select(Article)
        .where(
            Article.category_id == article.category_id,
            Article.status == Status.PUBLISHED,
            Article.title > article.title,
        )
        .order_by(Article.title, Article.id)
        .limit(1)
    )


def my_assignments(user):
    assignments = (
        db.session.scalars(
            select(Assignment)
            .where(Assignment.user_id == user.id)
            .options(joinedload(Assignment.path).selectinload(ReadingPath.items).joinedload(PathItem.article))
            .order_by(Assignment.due_on, Assignment.id)
        )
        .unique()
        .all()
    )
    return [progress(assignment.path, user, assignment) for assignment in assignments]


def assignment_of(path, user):
    return db.session.scalar(
        select(Assignment).where(Assignment.path_id == path.id, Assignment.user_id == user.id)
    )


def team_progress(actor, path=None, team_id=None):
    """Progress of every assignment the actor oversees (admins: all, or the team they
    pick; managers: their team), overdue ones first."""
    if not access.may_see_team_progress(actor):
        return []
    query = (
        select(Assignment)
        .join(User, User.id == Assignment.user_id)
        .options(
            # The user's team too: whether an assignment is overdue depends on its time zone.
            joinedload(Assignment.user).joinedload(User.team),
            joinedload(Assignment.path).selectinload(ReadingPath.items).joinedload(PathItem.article),
        )
        .order_by(Assignment.due_on, User.display_name)
    )
    if not access.sees_every_team(actor):
        query = query.where(User.team_id == actor.team_id)
    elif team_id is not None:
        query = query.where(User.team_id == team_id)
    if path is not None:
        query = query.where(Assignment.path_id == path.id)
    assignments = db.session.scalars(query).unique().all()
    receipts = read_versions(
        {a.user_id for a in assignments}, {item.article_id for a in assignments for item in a.path.items}
    )
    rows = [progress(a.path, a.user, a, receipts) for a in assignments]
    return sorted(rows, key=lambda row: (not row.overdue, row.complete, row.assignment.due_on))


def all_paths():
    return db.session.scalars(
        select(ReadingPath).options(selectinload(ReadingPath.items)).order_by(ReadingPath.name)
    ).all()

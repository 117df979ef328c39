"""Categories: two levels (a top-level category and its subcategories), named
uniquely within their parent; only an empty one can be deleted."""

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from . import access
from .models import Article, Category

MAX_NAME = 40


def category_tree():
    """Top-level categories with their children loaded, in display order."""
    return db.session.scalars(
        select(Category)
        .where(Category.parent_id.is_(None))
        .options(selectinload(Category.children))
        .order_by(Category.position, Category.name)
    ).all()


def _check_category(session, name, parent_id, except_id=None):
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A category needs a name."), field="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("The name is too long (at most 40 characters)."), field="name")
    parent = None
    if parent_id:
        parent = session.get(Category, parent_id)
        if parent is None:
            raise DomainError(_("Unknown category."), field="parent_id")
        if parent.parent_id is not None or parent.id == except_id:
            raise DomainError(_("Categories have at most two levels."), field="parent_id")
    query = select(Category.id).where(Category.name == name)
    query = query.where(Category.parent_id == parent.id if parent else Category.parent_id.is_(None))
    if except_id:
        query = query.where(Category.id != except_id)
    if session.scalar(query) is not None:
        raise DomainError(_("A category with this name exists already here."), field="name")
    return name, parent


def create_category(*, name, parent_id=None, actor):
    if not access.may_manage_categories(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        name, parent = _check_category(session, name, parent_id)
        position = session.scalar(
            select(func.coalesce(func.max(Category.position), 0) + 1).where(
                Category.parent_id == parent.id if parent else Category.parent_id.is_(None)
            )
        )
        category = Category(name=name, parent=parent, position=position, created_at=clock.now())
        session.add(category)
    return category


def update_category(category, *, name, parent_id=None, actor):
    if not access.may_manage_categories(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        if parent_id and session.scalar(select(func.count()).where(Category.parent_id == category.id)):
            raise DomainError(_("Categories have at most two levels."), field="parent_id")
        name, parent = _check_category(session, name, parent_id, except_id=category.id)
        category.name, category.parent = name, parent
    return category


def delete_category(category, *, actor):
    if not access.may_manage_categories(actor):
        raise Forbidden(_("Only editors can change articles or see their history."))
    with write_transaction() as session:
        in_use = session.scalar(select(func.count()).where(Article.category_id == category.id))
        children = session.scalar(select(func.count()).where(Category.parent_id == category.id))
        if in_use or children:
            raise Conflict(
                _("Only an empty category can be deleted: move its articles and subcategories first.")
            )
        session.delete(category)

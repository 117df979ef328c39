"""Whom or what an audit event is about, by name and with a link to its page, for the
audit log's "Subject" column. The events record a table name and an id ("users #1");
each kind of subject on a page is read in one query, not one per row. A subject that
no longer exists, or that is in the trash, is named without a link."""

from collections import defaultdict
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import Team, User
from ..extensions import db
from ..kb.models import Article, Assignment, ReadingPath
from ..ledger.models import Customer, ImportJob
from ..recognition.models import PointEntry


@dataclass(frozen=True)
class Subject:
    label: str
    url: str | None = None  # None: deleted, or without a page of its own
    deleted: bool = False


def _users(ids):
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {id_: Subject(name, url_for("admin.edit_user", user_id=id_)) for id_, name in rows}


def _teams(ids):
    rows = db.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))
    return {id_: Subject(name, url_for("admin.edit_team", team_id=id_)) for id_, name in rows}


def _customers(ids):
    rows = db.session.execute(
        select(Customer.id, Customer.name, Customer.deleted_at).where(Customer.id.in_(ids))
    )
    return {
        id_: Subject(name, deleted=True)
        if deleted_at is not None
        else Subject(name, url_for("ledger.show", customer_id=id_))
        for id_, name, deleted_at in rows
    }


def _articles(ids):
    rows = db.session.execute(select(Article.id, Article.title).where(Article.id.in_(ids)))
    return {id_: Subject(title, url_for("kb.article", article_id=id_)) for id_, title in rows}


def _reading_assignments(ids):
    rows = db.session.execute(
        select(Assignment.id, Assignment.path_id, ReadingPath.name, User.display_name)
        .join(ReadingPath, ReadingPath.id == Assignment.path_id)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.id.in_(ids))
    )
    return {
        id_: Subject(_("%(path)s, for %(name)s", path=path, name=name), url_for("kb.path", path_id=path_id))
        for id_, path_id, path, name in rows
    }


def _point_entries(ids):
    rows = db.session.execute(
        select(PointEntry.id, PointEntry.points, User.display_name)
        .join(User, User.id == PointEntry.recipient_id)
        .where(PointEntry.id.in_(ids))
    )
    return {
        id_: Subject(
            _("%(points)+d points for %(name)s", points=points, name=name),
            url_for("recognition.entry", entry_id=id_),
        )
        for id_, points, name in rows
    }


def _imports(ids):
    rows = db.session.execute(select(ImportJob.id, ImportJob.filename).where(ImportJob.id.in_(ids)))
    return {id_: Subject(filename, url_for("ledger.import_job", job_id=id_)) for id_, filename in rows}


# table name -> (what one is called, reads {id: Subject} for a set of ids)
KINDS = {
    "users": (_l("User"), _users),
    "teams": (_l("Team"), _teams),
    "customers": (_l("Customer"), _customers),
    "kb_articles": (_l("Article"), _articles),
    "kb_assignments": (_l("Reading path"), _reading_assignments),
    "point_entries": (_l("Points"), _point_entries),
    "import_jobs": (_l("Import"), _imports),
}


def _gone(event):
    """A subject no longer in the database: the name the event recorded, if any."""
    kind = KINDS.get(event.subject_type)
    if kind is None:  # recorded by a feature this list does not know yet
        return Subject(f"{event.subject_type} #{event.subject_id}")
    name = (event.details or {}).get("name")
    if name:
        return Subject(_("%(name)s (deleted)", name=name), deleted=True)
    return Subject(_("%(kind)s #%(id)s (deleted)", kind=kind[0], id=event.subject_id), deleted=True)


# details that hold the id of a person or a team, named like the subjects
REFERENCES = {"user_id": "users", "recipient_id": "users", "successor": "users", "team_id": "teams"}


@dataclass(frozen=True)
class Row:
    """What the audit log shows of one event beside its time, action and actor."""

    subject: Subject | None
    details: list  # [(key, value as recorded, Subject named by the value or None)]


def _references(event):
    return [
        (key, REFERENCES[key], value)
        for key, value in (event.details or {}).items()
        if key in REFERENCES and isinstance(value, int)
    ]


def rows_of(events):
    """{event id: Row}: subjects and the people and teams in details by name, read in
    one query per kind for the whole page."""
    wanted = defaultdict(set)
    for event in events:
        if event.subject_type and event.subject_id is not None:
            wanted[event.subject_type].add(event.subject_id)
        for _key, table, id_ in _references(event):
            wanted[table].add(id_)
    found = {}
    for table, ids in wanted.items():
        kind = KINDS.get(table)
        for id_, subject in (kind[1](ids) if kind else {}).items():
            found[table, id_] = subject
    rows = {}
    for event in events:
        subject = None
        if event.subject_type and event.subject_id is not None:
            subject = found.get((event.subject_type, event.subject_id)) or _gone(event)
        named = {key: found.get((table, id_)) for key, table, id_ in _references(event)}
        details = [(key, value, named.get(key)) for key, value in (event.details or {}).items()]
        rows[event.id] = Row(subject, details)
    return rows

"""One page of a list: what every list hands its template, drawn by the one
`pagination` macro in templates/_macros/ui.html."""

from dataclasses import dataclass, field
from math import ceil

from flask import request
from sqlalchemy import func, select

from .database import MAX_ID
from .extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    has_next: bool
    # Exact when every row was counted; None when counting was skipped or capped
    # (a count over 100,000 rows costs more than the page it describes).
    total: int | None = None
    # Keyset lists (newest first, "older" links) say how to ask for the next page.
    next_args: dict = field(default_factory=dict)

    @property
    def pages(self):
        """The number of pages, when all rows were counted."""
        return None if self.total is None else max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def prev_args(self):
        return {"page": self.page - 1 if self.page > 2 else None}

    @property
    def following_args(self):
        return self.next_args or {"page": self.page + 1}


def page_number(name="page"):
    """The page asked for in the query string; page 1 for anything that is not a page."""
    number = request.args.get(name, type=int)
    return number if number is not None and 0 < number <= MAX_ID else 1


def paginate(query, page, per_page, count=True):
    """Rows `page` of a SELECT; one row more than a page tells whether another follows."""
    rows = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    total = None
    if count:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return Page(
        items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page, total=total
    )

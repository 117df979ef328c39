"""The customer list: filters from the query string, sorting, and pages that stay fast
deep into 100,000 rows (ids are paged on an index, rows loaded for one page only)."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from math import ceil
from urllib.parse import parse_qsl, urlsplit

from flask import current_app
from sqlalchemy import case, false, func, literal, or_, select, text, union
from sqlalchemy.orm import defer, joinedload, selectinload
from werkzeug.datastructures import MultiDict

from .. import clock, paging, settings
from ..auth.models import Role
from ..database import is_id
from ..errors import DomainError
from ..extensions import db
from ..fields import sql as field_sql
from ..fields import types as field_types
from ..fields.definitions import active_fields
from ..fields.models import INDEXED_TYPES, FieldType
from . import access, search
from .models import GRADES, SOURCE_LABELS, Contact, Customer, CustomerTag, Stage

STAGE_RANK = case({stage.value: rank for rank, stage in enumerate(Stage)}, value=Customer.stage)

SORTS = {
    "updated": Customer.updated_at,
    "created": Customer.created_at,
    "name": Customer.sort_name,
    "stage": STAGE_RANK,
    "grade": Customer.grade,
    "amount": Customer.expected_amount,
    "next_follow_up": Customer.next_follow_up_on,
    "last_follow_up": Customer.last_follow_up_at,
    "region": Customer.province,
    "reclaim": Customer.reclaim_at,
}
# The index each sort can walk (see list_customers).
SORT_INDEXES = {
    "updated": "ix_customers_updated",
    "created": "ix_customers_created",
    "name": "ix_customers_sort_name",
    "grade": "ix_customers_grade",
    "amount": "ix_customers_amount",
    "next_follow_up": "ix_customers_next_follow_up",
    "last_follow_up": "ix_customers_last_follow_up",
    "reclaim": "ix_customers_reclaim",
}
DEFAULT_SORT = ("updated", "desc")
FOLLOW_UP_FILTERS = ("due", "overdue", "due_or_overdue")
# The view switcher: whose customers the list opens on (我负责的 / 我协作的 / 团队 / 全部 / 公海).
VIEWS = ("mine", "collab", "team", "all", "pool")
MAX_PAGE = 100_000
PAGE_SIZES = (25, 50, 100)  # what a user may pick (per_page in the URL)
# Counting every match costs more than the page: lists count up to a limit and say
# "more than" beyond it. A search checks each match's words, so it stops sooner.
COUNT_LIMIT = 10_000
SEARCH_COUNT_LIMIT = 500
FEW_MATCHES = 2_000  # up to this many, a page is sorted from the matches (list_customers)


# Custom fields (fields/): their columns, sorts and filters are named cf_<key> in URLs,
# a range's ends cf_<key>_min and cf_<key>_max. Long text is neither listed nor filtered.
CUSTOM_PREFIX = "cf_"
LISTED_TYPES = tuple(kind for kind in FieldType if kind != FieldType.LONG_TEXT)
RANGE_TYPES = (FieldType.NUMBER, FieldType.MONEY, FieldType.DATE)
MAX_FILTER_TEXT = 100


def args_of(url):
    """The query-string arguments of a link to a list (a form's `next`): the filters it
    showed, for the answer to a POST made from it."""
    return MultiDict(parse_qsl(urlsplit(url).query))


def default_view(user):
    """What the list opens on: a rep works their own customers, a manager watches the
    team; admins and support, who own none, see the company."""
    if user is None:
        return "all"
    if user.role == Role.REP:
        return "mine"
    if user.role == Role.MANAGER and user.team_id is not None:
        return "team"
    return "all"


def views_for(user):
    """The views `user` can switch between: the team view needs a team."""
    if user is None:
        return list(VIEWS)
    return [view for view in VIEWS if view != "team" or user.team_id is not None]


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if is_id(number) else None


def listed_fields():
    """The active customer fields, in their order: the list's custom columns and filters."""
    return [f for f in active_fields("customer") if f.type in LISTED_TYPES]


def may_filter_on(user, custom_field):
    """Whether `user` may filter and sort on a custom field. A sensitive one only for those
    who see every customer's details: a filter or an order over values masked to the user
    would tell them what the mask hides, one narrowing at a time."""
    return not custom_field.sensitive or access.sees_every_detail(user)


def filterable_fields(user, fields):
    """The fields among `fields` (listed_fields) the filter form offers `user`."""
    return [f for f in fields if may_filter_on(user, f)]


def custom_sort_key(custom_field):
    return f"{CUSTOM_PREFIX}{custom_field.key}" if custom_field.type in INDEXED_TYPES else None


@dataclass(frozen=True)
class CustomFilter:
    """One filter on a custom field. op: "is" (a choice, yes/no, a user), "has" (a choice
    of a multiple choice), "contains" (text), "min" / "max" (an inclusive end of a range).
    value: as the field keeps it (values.py); text: as the URL and the form write it."""

    field: object
    op: str
    value: object
    text: str

    @property
    def param(self):
        name = f"{CUSTOM_PREFIX}{self.field.key}"
        return f"{name}_{self.op}" if self.op in ("min", "max") else name


def _custom_filters(args, fields):
    """The custom filters the URL names among the listed `fields`; anything that is not
    a value of its field is not a filter."""
    found = []
    for f in fields:
        kind = FieldType(f.type)
        name = f"{CUSTOM_PREFIX}{f.key}"
        if kind in RANGE_TYPES:
            for op in ("min", "max"):
                raw = str(args.get(f"{name}_{op}", "")).strip()[:40]
                value = _range_end(f, raw)
                if value is not None:
                    # A date as its input writes it (2026-12-31), whatever the URL said.
                    found.append(CustomFilter(f, op, value, value if kind == FieldType.DATE else raw))
            continue
        raw = str(args.get(name, "")).strip()
        if not raw:
            continue
        if kind in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE):
            if raw in {choice["key"] for choice in f.choices}:
                op = "has" if kind == FieldType.MULTIPLE_CHOICE else "is"
                found.append(CustomFilter(f, op, raw, raw))
        elif kind == FieldType.YES_NO:
            if raw in ("yes", "no"):
                found.append(CustomFilter(f, "is", raw == "yes", raw))
        elif kind == FieldType.USER:
            if _int(raw):
                found.append(CustomFilter(f, "is", int(raw), raw))
        elif kind == FieldType.TEXT:
            text = " ".join(raw.split())[:MAX_FILTER_TEXT]
            if text:
                found.append(CustomFilter(f, "contains", text, text))
    return tuple(found)


def _range_end(custom_field, raw):
    """A range's end as the field keeps values (fen for money, an ISO date), or None when
    `raw` is empty or not a value of the field (the field's own parser decides)."""
    if not raw:
        return None
    try:
        return field_types.parse(custom_field, raw)
    except DomainError:
        return None


def _bound(custom_field, value):
    """A value to compare the field's SQL with. PostgreSQL compares numeric with numeric
    (a float would cast the indexed side, and miss the index); SQLite takes no Decimal."""
    if custom_field.type == FieldType.NUMBER:
        number = Decimal(str(value))
        if field_sql.is_postgresql():
            return literal(number)
        return int(number) if number == number.to_integral_value() else float(number)
    return literal(value)


def _custom_condition(custom_filter):
    f, op, value = custom_filter.field, custom_filter.op, custom_filter.value
    if op == "has":
        return field_sql.has_choice(f, value)
    if op == "contains":
        return search.custom_text_contains(f, value)
    column = field_sql.value_of(f)
    if op == "min":
        return column >= _bound(f, value)
    if op == "max":
        return column <= _bound(f, value)
    return column == _bound(f, value)


@dataclass
class Filters:
    """What the list shows, parsed leniently from the URL: unknown values are ignored,
    so a bookmarked or hand-edited URL never errors."""

    q: str = ""
    view: str = "all"
    stage: str = ""
    owner: str = ""  # "me", "pool" or a user id
    team: int | None = None
    grade: str = ""
    tag: str = ""
    province: str = ""
    source: str = ""
    follow_up: str = ""
    reclaim_soon: bool = False
    sort: str = DEFAULT_SORT[0]
    direction: str = DEFAULT_SORT[1]
    page: int = 1
    per_page: int | None = None  # None: the configured PAGE_SIZE
    # The user's default view: left out of links, so /customers stays the plain address.
    default_view: str = "all"
    # Filters on custom fields (CustomFilter), in the fields' order.
    custom: tuple = ()
    # The listed custom fields (listed_fields), once loaded: see custom_fields().
    fields: list | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_args(cls, args, user=None):
        """user: whose default view applies when the URL names none (or one they lack), and
        whose sensitive custom fields are no filter (may_filter_on). Without a user they
        are kept here, and left out by conditions()."""
        sort = args.get("sort", DEFAULT_SORT[0])
        per_page = _int(args.get("per_page"))
        owner = args.get("owner", "")
        default = default_view(user)
        view = args.get("view", "")
        fields, custom, custom_sorts = None, (), set()
        if any(str(name).startswith(CUSTOM_PREFIX) for name in [*args.keys(), sort]):
            # Only a URL that names a custom field costs a look at the fields.
            fields = listed_fields()
            usable = [f for f in fields if user is None or may_filter_on(user, f)]
            custom = _custom_filters(args, usable)
            custom_sorts = {custom_sort_key(f) for f in usable} - {None}
        return cls(
            q=args.get("q", "").strip()[:100],
            view=view if view in views_for(user) else default,
            default_view=default,
            stage=args.get("stage", "") if args.get("stage") in [*Stage, "open"] else "",
            owner=owner if owner in ("me", "pool") or _int(owner) else "",
            team=_int(args.get("team")),
            grade=args.get("grade", "") if args.get("grade") in GRADES else "",
            tag=args.get("tag", "").strip()[:30],
            province=args.get("province", "").strip()[:20],
            source=args.get("source", "") if args.get("source") in SOURCE_LABELS else "",
            follow_up=args.get("follow_up", "") if args.get("follow_up") in FOLLOW_UP_FILTERS else "",
            reclaim_soon=args.get("reclaim") == "soon",
            sort=sort if sort in SORTS or sort in custom_sorts else DEFAULT_SORT[0],
            direction="asc" if args.get("direction") == "asc" else "desc",
            page=min(_int(args.get("page")) or 1, MAX_PAGE),
            per_page=per_page if per_page in PAGE_SIZES else None,
            custom=custom,
            fields=fields,
        )

    def custom_fields(self):
        """The listed custom fields (loaded once, when first needed)."""
        if self.fields is None:
            self.fields = listed_fields()
        return self.fields

    @property
    def custom_text(self):
        """{URL parameter: text} of the custom filters, as the filter form shows them."""
        return {custom_filter.param: custom_filter.text for custom_filter in self.custom}

    def args(self, **changes):
        """Query-string arguments for a link to this list with some changes."""
        values = {
            "q": self.q,
            "view": self.view,
            "stage": self.stage,
            "owner": self.owner,
            "team": self.team,
            "grade": self.grade,
            "tag": self.tag,
            "province": self.province,
            "source": self.source,
            "follow_up": self.follow_up,
            "reclaim": "soon" if self.reclaim_soon else "",
            "sort": self.sort,
            "direction": self.direction,
            "page": self.page,
            "per_page": self.per_page,
            **self.custom_text,
        }
        values.update(changes)
        defaults = {
            "sort": DEFAULT_SORT[0],
            "direction": DEFAULT_SORT[1],
            "page": 1,
            "view": self.default_view,
        }
        return {
            key: value
            for key, value in values.items()
            if value not in ("", None) and defaults.get(key) != value
        }


@dataclass
class Page(paging.Page):
    """A page of customers, with the first contact each row shows."""

    first_contacts: dict = field(default_factory=dict)  # customer id -> ContactView
    # The count limit when there were more matches than it: "more than N".
    more_than: int | None = None
    # Ids of the customers on the page whose details the viewer may see (sensitive
    # custom values show masked on the others).
    visible_ids: set = field(default_factory=set)


def conditions(user, filters):
    """The WHERE clauses for `filters` as `user` sees the ledger."""
    where = [Customer.deleted_at.is_(None)]
    if filters.q:
        # A name, a contact's name, contact details or searchable custom text the user may
        # see (search.ways_to_match).
        where.append(or_(false(), *search.ways_to_match(user, filters.q, filters.custom_fields())))
    where.extend(_view_conditions(user, filters.view))
    if filters.stage == "open":
        where.append(Customer.stage.in_([s.value for s in Stage if not s.is_closed]))
    elif filters.stage:
        where.append(Customer.stage == filters.stage)
    if filters.owner == "me":
        where.append(Customer.owner_id == user.id)
    elif filters.owner == "pool":
        where.append(Customer.in_pool)
    elif filters.owner:
        where.append(Customer.owner_id == int(filters.owner))
    if filters.team:
        where.append(Customer.team_id == filters.team)
    if filters.grade:
        where.append(Customer.grade == filters.grade)
    if filters.tag:
        where.append(Customer.id.in_(select(CustomerTag.customer_id).where(CustomerTag.tag == filters.tag)))
    if filters.province:
        where.append(Customer.province == filters.province)
    if filters.source:
        where.append(Customer.source == filters.source)
    if filters.follow_up:
        today = clock.today(user.timezone)
        due = {
            "due": Customer.next_follow_up_on == today,
            "overdue": Customer.next_follow_up_on < today,
            "due_or_overdue": Customer.next_follow_up_on <= today,
        }[filters.follow_up]
        where.append(due)
    if filters.reclaim_soon:
        # Within the warning window (or already due, awaiting the next reclaim run).
        where.append(Customer.reclaim_at <= settings.current().reclaim_horizon(clock.now()))
    where.extend(_custom_condition(c) for c in filters.custom if may_filter_on(user, c.field))
    return where


def _view_conditions(user, view):
    if view == "mine":
        return [Customer.owner_id == user.id]
    if view == "collab":
        # Customers the user works on for their owner: a collaboration ends in the pool.
        return [Customer.id.in_(access.collaborating_ids(user)), ~Customer.in_pool]
    if view == "team" and user.team_id is not None:
        # What the team owns: its members' customers, wherever they came from. The ids
        # are read first: PostgreSQL ran an IN (SELECT …) as a loop over the members,
        # each repeating the other filters' index scans (a custom filter: 175 → 12 ms).
        members = db.session.scalars(access.team_member_ids(user.team_id)).all()
        return [Customer.owner_id.in_(members)]
    if view == "pool":
        return [Customer.in_pool]
    return []


def _sort_field(user, filters):
    """The custom field the list sorts by, or None (a built-in sort, or one `user` may not use)."""
    if filters.sort in SORTS or not filters.sort.startswith(CUSTOM_PREFIX):
        return None
    for f in filters.custom_fields():
        if custom_sort_key(f) == filters.sort and may_filter_on(user, f):
            return f
    return None


def _sort(user, filters):
    """(the SQL to sort by, the index that walks it on SQLite or None)."""
    custom_field = _sort_field(user, filters)
    if custom_field is not None:
        return field_sql.value_of(custom_field), field_sql.index_name(custom_field)
    sort = filters.sort if filters.sort in SORTS else DEFAULT_SORT[0]
    return SORTS[sort], SORT_INDEXES.get(sort)


def _walkable(index):
    """Whether SQLite has the index: the built-in ones come with the migrations, a custom
    field's is made at run time (and INDEXED BY a missing one fails the statement)."""
    if index in SORT_INDEXES.values():
        return True
    found = text("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name")
    return db.session.scalar(found.bindparams(name=index)) is not None


def _ordered(key, customer_id, direction):
    return [key.asc(), customer_id.asc()] if direction == "asc" else [key.desc(), customer_id.desc()]


def _searched_ids(user, filters, limit):
    """Ids of up to limit + 1 customers matching the search and the other filters. Each
    way of matching is read through its own index and stops at limit + 1: over an OR of
    them, or an IN of their UNION, both planners gather every match first (24,570 for
    `keji`), and PostgreSQL reads the whole table for it."""
    others = conditions(user, replace(filters, q=""))
    parts = [
        select(Customer.id).where(*others, way).limit(limit + 1).subquery()
        for way in search.ways_to_match(user, filters.q, filters.custom_fields())
    ]
    if not parts:
        return []
    found = union(*(select(part.c.id) for part in parts)).subquery()
    return db.session.scalars(select(found.c.id).limit(limit + 1)).all()


def _read_once(user, filters, where, key, per_page):
    """(the matches counted up to COUNT_LIMIT + 1, the page, its ids and one more) in one
    statement, or None when the list has no custom filter. A custom filter is checked on
    each candidate's row (its JSON), so counting the matches costs as much as reading
    them: counting, then reading them again to sort, doubled the list's time (an
    administrator's list filtered on a choice and a number range: 60 + 60 ms on SQLite).
    Beyond COUNT_LIMIT the caller reads the page again, as without custom filters."""
    if not any(may_filter_on(user, c.field) for c in filters.custom):
        return None
    matches = (
        select(Customer.id, key.label("key"))
        .where(*where)
        .limit(COUNT_LIMIT + 1)
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    total = select(func.count()).select_from(matches).scalar_subquery()
    ordered = select(matches.c.id, total).order_by(*_ordered(matches.c.key, matches.c.id, filters.direction))

    def read(page):
        return db.session.execute(ordered.limit(per_page + 1).offset((page - 1) * per_page)).all()

    page, rows = filters.page, read(filters.page)
    if not rows and page > 1:
        # Past the last page (an old link): the count says which page is the last.
        page = max(1, ceil(db.session.scalar(select(total)) / per_page))
        rows = read(page)
    return (rows[0][1] if rows else 0), page, [row.id for row in rows]


def _page_query(filters, where, key, sort_index, total, searched):
    """The ids of the list's matches in order, `total` of them counted (up to the
    limit) and, for a search, `searched` in hand."""
    counted_all = total <= (SEARCH_COUNT_LIMIT if filters.q else COUNT_LIMIT)
    if filters.q and counted_all:
        # Every match is in hand: sort those, without searching again.
        query = select(Customer.id).where(Customer.id.in_(searched))
        return query.order_by(*_ordered(key, Customer.id, filters.direction))
    if counted_all and total <= FEW_MATCHES:
        # Few matches: read them through the filters' indexes, as the count did, and sort
        # them. Walking the sort's index instead can pass thousands of rows that do not
        # match, and planners often guess that it will not.
        matches = (
            select(Customer.id, key.label("key")).where(*where).cte("matches").prefix_with("MATERIALIZED")
        )
        return select(matches.c.id).order_by(*_ordered(matches.c.key, matches.c.id, filters.direction))
    query = select(Customer.id).where(*where).order_by(*_ordered(key, Customer.id, filters.direction))
    if (
        (filters.q or not counted_all)
        and sort_index
        and not field_sql.is_postgresql()
        and _walkable(sort_index)
    ):
        # A search with many matches, or more than COUNT_LIMIT rows (the pool: a
        # third of the ledger): walking the sort's index finds a page of them sooner
        # than sorting them all. SQLite cannot tell (it has no statistics on the
        # search table, and prefers the filter's index for the pool); PostgreSQL's
        # planner can. Even the pool's page 1,000 is found sooner so (50 ms, not 100).
        query = query.with_hint(Customer, f"INDEXED BY {sort_index}", dialect_name="sqlite")
    return query


def list_customers(user, filters, tags=False):
    """The page of customers `filters` asks for (a Page); tags: with their tags too (the
    list's Tags column), which costs a join and a third of the rows' loading."""
    per_page = filters.per_page or current_app.config["PAGE_SIZE"]
    where = conditions(user, filters)
    key, sort_index = _sort(user, filters)
    limit = SEARCH_COUNT_LIMIT if filters.q else COUNT_LIMIT
    searched = read_once = None
    if filters.q:
        searched = _searched_ids(user, filters, limit)
        total = len(searched)
    elif read_once := _read_once(user, filters, where, key, per_page):
        total, page, ids = read_once
    else:
        matching = select(Customer.id).where(*where).limit(limit + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(matching))
    counted_all = total <= limit
    if not (read_once and counted_all):
        page = min(filters.page, max(1, ceil(total / per_page))) if counted_all else filters.page
        query = _page_query(filters, where, key, sort_index, total, searched)
        ids = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    has_next, ids = len(ids) > per_page, ids[:per_page]
    customers, visible_ids = load_for_display(user, ids, tags=tags)
    # Found by a contact's name: the row shows that contact.
    shown_contacts = search.contacts_named(filters.q, ids) if filters.q else None
    return Page(
        items=customers,
        page=page,
        per_page=per_page,
        has_next=has_next,
        total=total if counted_all else None,
        first_contacts=access.first_contacts(ids, visible_ids, shown_contacts) if ids else {},
        more_than=None if counted_all else limit,
        visible_ids=visible_ids,
    )


def matching_ids(user, filters, limit=None):
    """Every customer the list shows under `filters`, in its order (exports, "assign all
    matching"); limit: at most that many."""
    key, _index = _sort(user, filters)
    query = select(Customer.id).where(*conditions(user, filters))
    query = query.order_by(*_ordered(key, Customer.id, filters.direction)).limit(limit)
    return db.session.scalars(query).all()


def load_for_display(viewer, ids, for_export=False, tags=False):
    """(customers by id, in that order, with what list rows show; the ids among them
    whose details `viewer` may see). The long search tokens never; the notes, the tags
    and every contact for exports; the tags when asked."""
    if not ids:
        return [], set()
    options = [defer(Customer.search_tokens), joinedload(Customer.owner)]
    if tags or for_export:
        options.append(joinedload(Customer.tags))  # a few per customer: in the same statement
    if for_export:
        options.append(selectinload(Customer.contacts).selectinload(Contact.phones))
    else:
        options.append(defer(Customer.notes))
    visible = access.details_visible_clause(viewer).label("visible")
    rows = db.session.execute(
        select(Customer, visible).where(Customer.id.in_(ids)).options(*options)
    ).unique()
    by_id, visible_ids = {}, set()
    for customer, details_visible in rows:
        by_id[customer.id] = customer
        if details_visible:
            visible_ids.add(customer.id)
    return [by_id[customer_id] for customer_id in ids if customer_id in by_id], visible_ids

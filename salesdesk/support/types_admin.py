"""Request types, as administrators edit them: name, the prompts that pre-fill a new
request's details, the handler group (a team's support users or the whole company's),
how requests are routed, and the service levels in working hours. Retired types stay
on the requests filed under them but are no longer offered. Every change is audited."""

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..auth.models import Team
from ..database import is_id, write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from . import access
from .models import RequestType, Routing

MAX_NAME = 40
MAX_PROMPTS = 2000
POSITION_RANGE = (0, 10_000)
# Service levels are entered in working hours, in half hours.
HOURS_RANGE = (Decimal("0.5"), Decimal(2000))
HOURS_STEP = Decimal("0.5")
# form field (hours) -> column (minutes)
LEVELS = {
    "response_normal_hours": "response_normal_minutes",
    "resolve_normal_hours": "resolve_normal_minutes",
    "response_urgent_hours": "response_urgent_minutes",
    "resolve_urgent_hours": "resolve_urgent_minutes",
}
AUDITED = ("name", "prompts", "team_id", "routing", "position", *LEVELS.values())

audit.register_actions(
    {
        "support.type_created": _l("Request type created"),
        "support.type_updated": _l("Request type changed"),
        "support.type_retired": _l("Request type retired"),
        "support.type_restored": _l("Request type restored"),
    }
)


@dataclass
class TypeValues:
    """What the type form sends, before it is checked; levels in working hours."""

    name: str = ""
    prompts: str = ""
    team_id: int | None = None  # None: the company-wide queue
    routing: str = Routing.ROUND_ROBIN
    response_normal_hours: Decimal | None = None
    resolve_normal_hours: Decimal | None = None
    response_urgent_hours: Decimal | None = None
    resolve_urgent_hours: Decimal | None = None
    position: int | None = 0


def hours_of(minutes):
    """Working minutes as hours for the form and the list: 480 -> 8, 90 -> 1.5."""
    return Decimal(format((Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize(), "f"))


def values_of(request_type):
    return TypeValues(
        name=request_type.name,
        prompts=request_type.prompts,
        team_id=request_type.team_id,
        routing=request_type.routing,
        position=request_type.position,
        **{field: hours_of(getattr(request_type, column)) for field, column in LEVELS.items()},
    )


def default_values():
    """A new type: company-wide, round robin, the default service levels, last."""
    columns = RequestType.__table__.c
    return TypeValues(
        position=next_position(),
        **{field: hours_of(columns[column].default.arg) for field, column in LEVELS.items()},
    )


def all_types():
    """Every type, those offered first, in the order requesters see them."""
    return db.session.scalars(
        select(RequestType).order_by(RequestType.retired, RequestType.position, RequestType.id)
    ).all()


def next_position():
    return (db.session.scalar(select(func.max(RequestType.position))) or 0) + 1


def _minutes(hours, field):
    low, high = HOURS_RANGE
    if (
        not isinstance(hours, Decimal)
        or not hours.is_finite()
        or not low <= hours <= high
        or hours % HOURS_STEP != 0
    ):
        raise DomainError(
            _(
                "Enter working hours from %(low)s to %(high)s, in half hours (1.5 is an hour and a half).",
                low=low,
                high=high,
            ),
            field=field,
        )
    return int(hours * 60)


def _checked(session, values, request_type=None):
    """The columns to save, or the first DomainError on the field it concerns."""
    name = " ".join((values.name or "").split())
    if not name:
        raise DomainError(_("Give the type a name."), field="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("The name is too long (at most %(n)s characters).", n=MAX_NAME), field="name")
    taken = select(RequestType.id).where(func.lower(RequestType.name) == name.lower())
    if request_type is not None:
        taken = taken.where(RequestType.id != request_type.id)
    if session.scalar(taken) is not None:
        raise DomainError(_("Another request type is called %(name)s.", name=name), field="name")
    prompts = "\n".join(line.rstrip() for line in (values.prompts or "").strip().splitlines())
    if len(prompts) > MAX_PROMPTS:
        raise DomainError(
            _("The prompts are too long (at most %(n)s characters).", n=MAX_PROMPTS), field="prompts"
        )
    team_id = values.team_id
    if team_id is not None and (not is_id(team_id) or session.get(Team, team_id) is None):
        raise DomainError(_("Choose a team from the list, or the whole company."), field="team_id")
    if values.routing not in tuple(Routing):
        raise DomainError(_("Choose how requests are routed from the list."), field="routing")
    low, high = POSITION_RANGE
    position = values.position
    if not isinstance(position, int) or isinstance(position, bool) or not low <= position <= high:
        raise DomainError(
            _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field="position"
        )
    columns = {column: _minutes(getattr(values, field), field) for field, column in LEVELS.items()}
    # Resolving needs the request accepted first: a shorter resolution could never be met.
    for priority in ("normal", "urgent"):
        if columns[f"resolve_{priority}_minutes"] < columns[f"response_{priority}_minutes"]:
            raise DomainError(
                _("Resolution cannot take less time than the first response."),
                field=f"resolve_{priority}_hours",
            )
    return {
        "name": name,
        "prompts": prompts,
        "team_id": team_id,
        "routing": str(values.routing),
        "position": position,
        **columns,
    }


def _authorised(actor):
    if not access.may_manage_types(actor):
        raise Forbidden(_("Only administrators edit the request types."))


def _saved(work):
    """Run `work` in a write transaction; a name taken at the same moment is a 409."""
    try:
        with write_transaction() as session:
            return work(session)
    except IntegrityError as error:
        raise Conflict(
            _("Another request type got this name at the same moment. Choose another name.")
        ) from error


def create_type(actor, values):
    _authorised(actor)

    def work(session):
        request_type = RequestType(**_checked(session, values), retired=False)
        session.add(request_type)
        session.flush()
        audit.record("support.type_created", actor=actor, subject=request_type, name=request_type.name)
        return request_type

    return _saved(work)


def get_type(type_id):
    request_type = db.session.get(RequestType, type_id) if is_id(type_id) else None
    if request_type is None:
        raise NotFound(_("This request type does not exist."))
    return request_type


def update_type(actor, type_id, values):
    _authorised(actor)

    def work(session):
        request_type = get_type(type_id)
        columns = _checked(session, values, request_type)
        changes = {
            name: [getattr(request_type, name), columns[name]]
            for name in AUDITED
            if getattr(request_type, name) != columns[name]
        }
        for name, value in columns.items():
            setattr(request_type, name, value)
        session.flush()
        if changes:
            audit.record(
                "support.type_updated",
                actor=actor,
                subject=request_type,
                name=request_type.name,
                changes=changes,
            )
        return request_type

    return _saved(work)


def set_retired(actor, type_id, retired):
    """Retire a type (no longer offered to requesters; its requests keep it) or bring it
    back. The last type on offer stays: without one nobody could file a request."""
    _authorised(actor)
    with write_transaction() as session:
        request_type = get_type(type_id)
        if request_type.retired == retired:
            return request_type
        if retired:
            offered = session.scalar(
                select(func.count()).select_from(RequestType).where(RequestType.retired.is_(False))
            )
            if offered <= 1:
                raise DomainError(_("This is the last type requesters can choose: it cannot be retired."))
        request_type.retired = retired
        action = "support.type_retired" if retired else "support.type_restored"
        audit.record(action, actor=actor, subject=request_type, name=request_type.name)
    return request_type

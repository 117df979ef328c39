"""The team's targets table (/targets): one row per active rep and manager, one input
per measure, and the team's own total. A manager fills it for their team, an admin for
any team; a closed period's targets change only by an admin, with a reason. Every
change is kept (target_changes): who changed which target, from what to what, when.

"Copy last period" and "split the team total evenly" only fill the form again; the
manager looks at the figures and saves, so neither ever overwrites targets unseen."""

import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..auth.models import Role, User
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from . import access, targets
from .models import MAX_TARGET, Measure, Target, TargetChange

TEAM = "team"  # the row key of the team's own targets
HISTORY_SHOWN = 30
REASON_LIMIT = 500
_NUMBER = re.compile(r"\d+(\.\d+)?")
# What people type around a figure: ¥1,200,000 or 1 200 000.
_DECORATION = re.compile(r"[\s,，¥￥]")


class TargetErrors(DomainError):
    """Figures that cannot be targets, by input name: the table is shown again."""

    def __init__(self, errors):
        super().__init__(_("Some targets could not be saved; see the marked fields."))
        self.errors = errors


def input_name(row_key, measure):
    """The form name of a target's input: t-<user id>-<measure> or t-team-<measure>."""
    return f"t-{row_key}-{measure}"


@dataclass
class Row:
    user: User | None  # None: the team's own row
    values: dict  # {measure: the input's text}
    standing: targets.Standing | None = None
    editable: bool = True

    @property
    def key(self):
        return self.user.id if self.user is not None else TEAM


@dataclass
class Table:
    team: object
    period: object
    rows: list
    team_row: Row
    closed: bool
    may_edit: bool
    needs_reason: bool
    history: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    notice: str = ""
    sums: dict = field(default_factory=dict)


def members(team):
    """Who gets a target: the team's active reps and managers."""
    return db.session.scalars(
        select(User)
        .where(User.team_id == team.id, User.active.is_(True), User.role.in_(list(Role.SELLERS)))
        .order_by(User.role.desc(), User.display_name, User.id)
    ).all()


def _shown(value, measure):
    """A target as its input shows it: 50000.00 for money, 12 for a count."""
    if value is None:
        return ""
    return f"{Decimal(value):.2f}" if measure.is_money else str(int(value))


def _of_table(team, period, people):
    """The stored targets of the table: set in this team, and its present members'
    wherever set (someone who joined mid-period brings their target along; the unique
    index allows one per person, so a save must find it to change it)."""
    in_table = Target.team_id == team.id
    if people:
        in_table = or_(in_table, Target.user_id.in_([user.id for user in people]))
    return select(Target).where(Target.period == period.key, in_table)


def _stored_rows(team, period, people=()):
    """{row key: {measure: value}} stored for exactly this period (not derived)."""
    rows = {}
    for target in db.session.scalars(_of_table(team, period, people)):
        key = target.user_id if target.user_id is not None else TEAM
        rows.setdefault(key, {})[target.measure] = target.value
    return rows


def _people_with_targets(team, period):
    """People who hold a target of this period set while in this team but are no longer
    active members of it: shown read-only, so a past table still adds up."""
    return db.session.scalars(
        select(User)
        .join(Target, Target.user_id == User.id)
        .where(Target.period == period.key, Target.team_id == team.id)
        .distinct()
        .order_by(User.display_name, User.id)
    ).all()


def table(viewer, team, period, *, typed=None, errors=None, notice="", today=None):
    """The table for the page: stored values, or what was typed when shown again."""
    today = today or clock.today(team.timezone)
    closed = today >= period.end
    may_edit = access.may_set_targets(viewer, team) and (
        not closed or access.may_correct_closed_period(viewer)
    )
    people = members(team)
    active_ids = {user.id for user in people}
    former = [user for user in _people_with_targets(team, period) if user.id not in active_ids]
    standings = targets.standings([*people, *former], period, today=today)
    stored = _stored_rows(team, period, people)

    def values(key):
        if typed is not None and key in typed:
            return typed[key]
        own = stored.get(key, {})
        return {measure: _shown(own.get(measure), measure) for measure in Measure}

    rows = [Row(user, values(user.id), standings[user.id]) for user in people]
    rows += [Row(user, values(user.id), standings[user.id], editable=False) for user in former]
    team_row = Row(None, values(TEAM), targets.team_standing(team, standings, period, today=today))
    sums = {}
    for measure in Measure:
        filled = [row.standing.targets[measure] for row in rows if row.standing.targets[measure] is not None]
        sums[measure] = _shown(sum(filled), measure) if filled else ""
    return Table(
        team=team,
        period=period,
        rows=rows,
        team_row=team_row,
        closed=closed,
        may_edit=may_edit,
        needs_reason=closed and may_edit,
        history=history(team, period),
        errors=errors or {},
        notice=notice,
        sums=sums,
    )


def history(team, period, limit=HISTORY_SHOWN):
    return db.session.scalars(
        select(TargetChange)
        .where(TargetChange.period == period.key, TargetChange.team_id == team.id)
        .order_by(TargetChange.at.desc(), TargetChange.id.desc())
        .limit(limit)
    ).all()


def read_form(form, team):
    """{row key: {measure: text}} from the posted inputs. An input naming anyone but
    the team's active reps and managers (another team's rep, a deactivated user, a
    made-up id) refuses the whole form: nothing is saved."""
    people = members(team)
    keys = [TEAM, *(user.id for user in people)]
    allowed = {str(key) for key in keys}
    measures = {measure.value for measure in Measure}
    for name in form:
        prefix, _sep, rest = name.partition("-")
        key, _sep, measure = rest.rpartition("-")
        if prefix == "t" and measure in measures and key not in allowed:
            message = _("Targets are only for the team's active reps and managers (%(name)s).", name=name)
            raise DomainError(message)
    if any(input_name(key, m) not in form for key in keys for m in Measure):
        # A stale page (someone joined the team since) or a forged post: saving it
        # would clear targets the page never showed.
        raise DomainError(_("The table changed since it was opened; open it again and retype."))
    return {key: {m: form[input_name(key, m)].strip() for m in Measure} for key in keys}


def parse(measure, text):
    """A typed target as its value (None: no target). ValueError with the message."""
    text = _DECORATION.sub("", text or "")
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise ValueError(_("Enter a number of zero or more, such as 120000."))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter a number of zero or more, such as 120000.")) from None
    if value > MAX_TARGET:
        raise ValueError(_("A target above 10^12 is surely a typing mistake."))
    if measure.is_money:
        if value != value.quantize(Decimal("0.01"), rounding=ROUND_DOWN):
            raise ValueError(_("An amount has at most two decimals (fen)."))
        return value.quantize(Decimal("0.01"))
    if value != value.to_integral_value():
        raise ValueError(_("A count is a whole number."))
    return int(value)


def parse_all(typed):
    """({row key: {measure: value}}, {input name: message})."""
    values, errors = {}, {}
    for key, row in typed.items():
        for measure in Measure:
            try:
                values.setdefault(key, {})[measure] = parse(measure, row.get(measure, ""))
            except ValueError as error:
                errors[input_name(key, measure)] = str(error)
    return values, errors


def check_may_save(actor, team, period, reason, today=None):
    today = today or clock.today(team.timezone)
    if not access.may_set_targets(actor, team):
        raise Forbidden(_("Only the team's manager or an administrator sets its targets."))
    if today >= period.end:
        if not access.may_correct_closed_period(actor):
            raise Forbidden(_("This period is over: only an administrator may correct its targets."))
        if not reason.strip():
            raise DomainError(_("Say why a closed period's targets are corrected."), field="reason")
        if len(reason) > REASON_LIMIT:
            raise DomainError(
                _("Keep the reason under %(limit)s characters.", limit=REASON_LIMIT), field="reason"
            )


def save(actor, team, period, typed, reason=""):
    """Store the typed table; returns how many targets changed. TargetErrors for figures
    that cannot be targets (nothing is saved), Forbidden for who may not."""
    check_may_save(actor, team, period, reason)
    values, errors = parse_all(typed)
    if errors:
        raise TargetErrors(errors)
    now = clock.now()
    actor_id = actor.id  # read before the transaction: a lazy load would flush half-made rows
    try:
        with write_transaction():
            existing = {
                (target.user_id if target.user_id is not None else TEAM, target.measure): target
                for target in db.session.scalars(_of_table(team, period, members(team)))
            }
            changed = 0
            for key, row in values.items():
                for measure, value in row.items():
                    target = existing.get((key, measure.value))
                    old = target.value if target is not None else None
                    if old == value:
                        continue
                    changed += 1
                    _store(target, team, period, key, measure, value, actor_id, now)
                    db.session.add(
                        TargetChange(
                            period=period.key,
                            team_id=team.id,
                            user_id=None if key == TEAM else key,
                            measure=measure,
                            old_value=old,
                            new_value=value,
                            reason=reason.strip(),
                            actor_id=actor_id,
                            at=now,
                        )
                    )
            if changed:
                audit.record(
                    "targets.saved",
                    actor=actor,
                    subject=team,
                    period=period.key,
                    changed=changed,
                    reason=reason,
                )
    except IntegrityError:
        # Someone saved the same new targets between our read and our insert.
        raise Conflict(_("Someone saved this table at the same time; look at it again.")) from None
    return changed


def _store(target, team, period, key, measure, value, actor_id, now):
    if value is None:
        db.session.delete(target)
    elif target is None:
        db.session.add(
            Target(
                period=period.key,
                team_id=team.id,
                user_id=None if key == TEAM else key,
                measure=measure,
                value=value,
                updated_at=now,
                updated_by_id=actor_id,
            )
        )
    else:
        # A person's target moves to the team that sets it now.
        target.value, target.team_id, target.updated_at, target.updated_by_id = value, team.id, now, actor_id


def copied_from_previous(team, period):
    """The form filled with the previous period's stored targets (same kind of period),
    for the people still in the team."""
    people = members(team)
    previous = _stored_rows(team, period.previous, people)
    keys = [TEAM, *(user.id for user in people)]
    return {key: {m: _shown(previous.get(key, {}).get(m), m) for m in Measure} for key in keys}


def split_evenly(typed):
    """The team row's totals split evenly over the people's rows (as typed); measures
    without a total keep what the people's inputs hold. The remainder goes to the first
    rows, one (a count) or one fen (money) each: the rows add up to the total exactly."""
    values, errors = parse_all({TEAM: typed[TEAM]})
    if errors:
        raise TargetErrors(errors)
    people = [key for key in typed if key != TEAM]
    if not people:
        return typed
    result = {key: dict(row) for key, row in typed.items()}
    for measure, total in values[TEAM].items():
        if total is None:
            continue
        shares = _split(total, len(people), measure.is_money)
        for key, share in zip(people, shares, strict=True):
            result[key][measure] = _shown(share, measure)
    return result


def _split(total, count, money):
    unit = Decimal("0.01") if money else Decimal(1)
    total = Decimal(total)
    base = (total / count).quantize(unit, rounding=ROUND_DOWN)
    left = int((total - base * count) / unit)
    shares = [base + (unit if index < left else 0) for index in range(count)]
    return [share if money else int(share) for share in shares]


def refill(action, team, period, typed):
    """(typed values, notice) for the form's helper buttons: copy the previous
    period's targets, or split the team's totals evenly. Nothing is saved."""
    if action == "copy":
        notice = _("Copied the targets of %(period)s: check them and save.", period=period.previous.label)
        return copied_from_previous(team, period), notice
    return split_evenly(typed), _("Split the team's totals evenly: check them and save.")

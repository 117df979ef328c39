"""Working together on the demo's customers: support helps with the bigger deals,
colleagues join or ask to join (some requests still waiting for an answer), managers
come along to the big ones. Each contribution falls between two of the owner's
follow-ups, so the owner's own rhythm is unchanged."""

from datetime import timedelta

from ..ledger.models import Stage
from .words import CROSS_TEAM_REQUEST, SAME_TEAM_REQUESTS

DEAL_PHASES = [(kind, stage) for kind in ("enter", "ongoing") for stage in (Stage.QUOTED, Stage.NEGOTIATING)]


def plan(planner):
    """Support, colleagues and managers join some of the customers the owners hold."""
    rng = planner.rng
    by_team = {}
    for story in planner.stories:
        by_team.setdefault(story.team.name, []).append(story)
    requests = {"华东大区": 2, "华南大区": 1, "华北大区": 1}
    for team_name, stories in by_team.items():
        team = next(s.team for s in stories)
        held = [
            s for s in stories if _owned_at_end(s) and s.owner in team.reps and len(s.owner_follow_ups) >= 3
        ]
        rng.shuffle(held)
        advanced = [s for s in held if s.data.grade in "AB" or _reached(s, Stage.QUOTED)]
        # Support helps with demos and technical questions on bigger deals.
        for story in advanced[: len(advanced) // 3]:
            _add_collaborator(planner, story, story.owner, team.support, "support")
        # A colleague on the same team joins some deals.
        for story in held[:3]:
            colleague = _colleague(planner, story, team)
            if colleague:
                _add_collaborator(planner, story, story.owner, colleague, "colleague")
        # Some asked to join and were accepted.
        for story in held[3:5]:
            colleague = _colleague(planner, story, team)
            if colleague:
                _request(planner, story, colleague, answer=True)
        # A couple of requests are still waiting for an answer.
        for i, story in enumerate(held[5 : 5 + requests[team_name]]):
            if i == 0 and team_name == "华东大区":
                south = next(s.team for s in planner.stories if s.team.name == "华南大区")
                _request(planner, story, south.reps[1], answer=None)
            else:
                colleague = _colleague(planner, story, team)
                if colleague:
                    _request(planner, story, colleague, answer=None)
        # Managers join the big ones.
        for story in [s for s in held if s.data.grade == "A"][:3]:
            deal = [i for i, (_d, _a, p) in enumerate(story.owner_follow_ups) if p in DEAL_PHASES]
            if deal:
                _extra_follow_up(planner, story, team.manager, "manager", deal[0])


def _owned_at_end(story):
    owner_events = [e for e in story.events if e.kind == "owner"]
    return story.owner is not None and not (owner_events and owner_events[-1].args[0] is None)


def _reached(story, stage):
    return any(e.kind == "stage" and e.args[1] == stage for e in story.events)


def _colleague(planner, story, team):
    start = story.owner_follow_ups[0][0]
    people = [rep for rep in team.reps if rep is not story.owner and team.joined[rep.id] < start]
    return planner.rng.choice(people) if people else None


def _add_collaborator(planner, story, owner, user, phase):
    follow_ups = story.owner_follow_ups
    if phase == "support":  # support joins once the needs are known
        later = [
            i for i, (_d, _a, p) in enumerate(follow_ups) if p not in ("attempt", ("enter", Stage.CONTACTED))
        ]
        i = min(later[0] if later else 0, max(0, len(follow_ups) - 3))
    else:
        i = planner.rng.randint(1 if len(follow_ups) > 3 else 0, max(0, len(follow_ups) - 3))
    at = follow_ups[i][1]
    planner.add(story, at + timedelta(minutes=planner.rng.randint(10, 40)), "add", owner, user)
    _extra_follow_up(planner, story, user, phase, i)


def _request(planner, story, user, answer):
    if answer is None:
        day = planner.recent_day(story.team, 1, 4)
        at = planner.moment(story.team, day)
        first = story.events[0].at
        if at <= first:
            return
    else:
        i = planner.rng.randint(0, max(0, len(story.owner_follow_ups) - 3))
        at = story.owner_follow_ups[i][1] + timedelta(hours=1)
    cross_team = user.team_id != story.owner.team_id
    message = planner.writer.fill(
        CROSS_TEAM_REQUEST if cross_team else planner.rng.choice(SAME_TEAM_REQUESTS), story
    )
    planner.add(story, at, "request", user, message)
    if answer is not None:
        planner.add(
            story, at + timedelta(hours=planner.rng.randint(2, 20)), "answer", story.owner, user, answer
        )
        _extra_follow_up(planner, story, user, "colleague", i + 1)


def _extra_follow_up(planner, story, author, phase, after_index):
    """A contribution between two of the owner's follow-ups (never the last word);
    managers and support help before the contract is signed."""
    follow_ups = story.owner_follow_ups
    until = len(follow_ups) - 1
    if phase in ("manager", "support"):
        until = next((i for i, (_d, _a, p) in enumerate(follow_ups) if p == "won"), until)
    gaps = [i for i in range(after_index, until) if (follow_ups[i + 1][0] - follow_ups[i][0]).days >= 2]
    if not gaps:
        return
    i = planner.rng.choice(gaps[:3])
    low, high = follow_ups[i][0], follow_ups[i + 1][0]
    day = planner.workday(low + timedelta(days=planner.rng.randint(1, (high - low).days - 1)), low, high)
    planner.follow_up(story, author, day, phase, None, after=follow_ups[i][1] + timedelta(hours=3))

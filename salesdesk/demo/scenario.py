"""What the demo ledger holds: about 300 customers of the three demo teams (99 a team,
16 of them in the pool), each with its story: a manager's key accounts, leads assigned
to the newest rep, a customer reclaimed and claimed again, individuals, deals won and
lost, and the pool's new leads and returns.

The data keep to the product's rules as they will be enforced (PRODUCT.md, section 2):
an owner follows an open customer up at least every 14 days and wins it within 90 days
of taking it, or it is back in the public pool; won customers stay. They are generated
from a fixed seed (the same companies and people every time); dates are relative to now.
"""

from datetime import timedelta

from ..ledger.models import Stage
from . import collaborations
from .customers import pick
from .stories import HISTORY_DAYS, MAX_GAP, Planner
from .words import ASSIGN_NOTES, CLAIM_NOTES

# What became of each team's customers.
OPEN_COUNTS = {
    Stage.LEAD: 19,
    Stage.CONTACTED: 17,
    Stage.QUALIFIED: 12,
    Stage.QUOTED: 10,
    Stage.NEGOTIATING: 8,
}
WON_COUNT = 14
LOST_COUNT = 3  # lost in the last two weeks, still with their owner
POOL_COUNTS = {"new": 6, "no_follow_up": 4, "no_deal": 2, "released": 4}
CUSTOMERS_PER_TEAM = sum(OPEN_COUNTS.values()) + WON_COUNT + LOST_COUNT + sum(POOL_COUNTS.values())


def plan(staff, now, similarity):
    """The demo ledger as (event, story) pairs, in the order they happened."""
    planner = Planner(staff, now, similarity)
    for team in staff:
        plan_team(planner, team)
    collaborations.plan(planner)
    return planner.events()


def plan_team(planner, team):
    """The stories of one team's customers."""
    rng = planner.rng
    today, last = planner.today(team), planner.last_day(team)
    reps, manager, support = team.reps, team.manager, team.support
    veterans, newest = reps[:-1], reps[-1]
    weights = [(rep, w) for rep, w in zip(veterans, (13, 11, 9), strict=False)]

    stages = [stage for stage, n in OPEN_COUNTS.items() for _ in range(n)]
    rng.shuffle(stages)

    def take(allowed):
        for i, stage in enumerate(stages):
            if stage in allowed:
                return stages.pop(i)
        return stages.pop()

    # A manager's own key accounts.
    for _ in range(2):
        planner.open_story(team, take([Stage.QUOTED, Stage.NEGOTIATING]), manager, grade="A")
    # Leads that came in through the website or a trade fair, assigned by the manager;
    # the newest rep gets most of them.
    for assignee in [newest, newest, newest, veterans[-1]]:
        stage = take([Stage.LEAD, Stage.CONTACTED])
        source = rng.choice(["website", "exhibition"])
        creator = support if source == "website" else manager
        story = planner.new_story(team, stage, source=source, lead_note=source)
        story.owner = assignee
        span = max(1, min(planner.tenure(team, assignee) - 1, 20))
        assigned = last - timedelta(days=rng.randint(0 if stage == Stage.LEAD else 3, span))
        assigned = planner.earlier_workday(assigned, team.joined[assignee.id])
        created = planner.earlier_workday(
            assigned - timedelta(days=rng.randint(1, 6)), assigned - timedelta(days=9)
        )
        planner.add(story, planner.moment(team, created), "create", creator, None)
        notes = ASSIGN_NOTES["new_hire" if assignee is newest and rng.random() < 0.5 else source]
        note = rng.choice(notes).format(name=assignee.display_name)
        at = planner.moment(team, assigned, "email").replace(hour=9) + timedelta(minutes=rng.randint(0, 50))
        planner.add(story, at, "owner", assignee, "assign", manager, note)
        # A lead nobody has followed up within MAX_GAP days would be back in the pool:
        # one assigned longer ago has had its first call since, and recently.
        recent = today - timedelta(days=MAX_GAP)
        if stage == Stage.CONTACTED and assigned < last:
            planner.continue_open(story, assigned + timedelta(days=1), stage)
        elif (rng.random() < 0.6 or assigned < recent) and assigned < last:
            day = max(assigned + timedelta(days=rng.randint(1, (last - assigned).days)), recent)
            planner.follow_up(
                story, assignee, day, "attempt", day + timedelta(days=rng.randint(1, 3)), after=at
            )
    # One that went quiet, was reclaimed, and another rep claimed later.
    former, claimer = rng.sample(veterans, 2)
    story, reclaimed = planner.quiet_story(
        team, former, today - timedelta(days=rng.randint(55, 75)), "reclaim_no_follow_up"
    )
    claimed = min(reclaimed + timedelta(days=rng.randint(2, 12)), last - timedelta(days=2))
    story.owner, story.owner_follow_ups = claimer, []
    at = planner.moment(team, claimed)
    planner.add(story, at, "owner", claimer, "claim", claimer, rng.choice(CLAIM_NOTES))
    planner.continue_open(story, claimed, take([Stage.CONTACTED, Stage.QUALIFIED]), after=at)
    # Individuals (个体户) among the small customers.
    for _ in range(2):
        planner.open_story(team, take([Stage.LEAD, Stage.CONTACTED]), pick(rng, weights), person=True)
    # The newest rep found two leads herself.
    for _ in range(2):
        planner.open_story(team, take([Stage.LEAD]), newest)
    while stages:
        stage = stages.pop()
        planner.open_story(team, stage, pick(rng, weights))

    for _ in range(WON_COUNT - 1):
        planner.won_story(team, pick(rng, weights))
    planner.won_story(team, manager)
    for _ in range(LOST_COUNT):
        planner.lost_story(team, pick(rng, weights), planner.recent_day(team, 1, 12), release=False)

    # The public pool.
    for i in range(POOL_COUNTS["new"]):
        source = "website" if i < 4 else "exhibition"
        story = planner.new_story(team, Stage.LEAD, source=source, lead_note=source)
        created = planner.recent_day(team, 1, 45)
        planner.add(
            story, planner.moment(team, created), "create", support if source == "website" else manager, None
        )
    for _ in range(POOL_COUNTS["no_follow_up"]):
        owner = pick(rng, weights)
        high = min(HISTORY_DAYS, planner.tenure(team, owner) - 1)
        planner.quiet_story(
            team, owner, today - timedelta(days=rng.randint(35, high)), "reclaim_no_follow_up"
        )
    for _ in range(POOL_COUNTS["no_deal"]):
        owner = veterans[0]
        planner.quiet_story(
            team, owner, today - timedelta(days=rng.randint(100, HISTORY_DAYS)), "reclaim_no_deal"
        )
    for _ in range(POOL_COUNTS["released"]):
        owner = pick(rng, weights)
        high = min(HISTORY_DAYS - 25, planner.tenure(team, owner) - 75)
        planner.lost_story(team, owner, today - timedelta(days=rng.randint(18, max(19, high))), release=True)

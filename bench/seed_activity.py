"""The activity around a seeded ledger that the workbench and the rules read: the
notifications of the last two months, collision reports, collaborations, blocked
duplicates, recognition points and the knowledge base with an onboarding path.
Called by bench/ledger_seed.py after the customers are in; deterministic for its rng."""

from datetime import timedelta

from sqlalchemy import select

from salesdesk.demo.words import ARTICLES, COLLISION_REASON, PATH_DESCRIPTION, PATH_NAME, PATH_TITLES

CUSTOMER_KINDS = {  # kind -> weight, for reps (managers and others get their own mix)
    "follow_up.due": 55,
    "reclaim.warning": 14,
    "reclaim.done": 6,
    "customer.assigned": 8,
    "points.thanked": 7,
    "collaboration.requested": 3,
    "collision.filed": 2,
    "collision.decided": 2,
    "extension.granted": 2,
    "reading.assigned": 1,
}
MANAGER_KINDS = {
    "collision.filed": 30,
    "extension.requested": 25,
    "points.thanked": 20,
    "customer.assigned": 15,
    "reading.assigned": 10,
}
NOTIFICATION_DAYS = 60
REASONS = ["帮忙约到了决策人", "分享了报价模板", "带新人跑客户", "协助处理售后问题", "一起攻下了大客户"]


def _moment(rng, now, days):
    return (now - timedelta(seconds=rng.random() * days * 86400)).replace(microsecond=0)


def _params(rng, kind, customer, people, today):
    if kind == "follow_up.due":
        due = today - timedelta(days=rng.choice((0, 0, 0, 1, 2)))
        return {"customer": customer, "due": due.isoformat(), "today": today.isoformat()}
    if kind == "reclaim.warning":
        return {"customer": customer, "date": (today + timedelta(days=rng.randint(1, 3))).isoformat()}
    if kind == "reclaim.done":
        return {"customer": customer, "rule_code": rng.choice(["reclaim_no_follow_up", "reclaim_no_deal"])}
    if kind in ("customer.assigned", "collaboration.requested"):
        return {"actor": rng.choice(people), "customer": customer}
    if kind == "points.thanked":
        return {"giver": rng.choice(people), "points": rng.randint(1, 5), "reason": rng.choice(REASONS)}
    if kind == "collision.filed":
        return {"reporter": rng.choice(people), "customer": customer}
    if kind == "collision.decided":
        return {"customer": customer, "decision": rng.choice(["keep", "transfer", "collaborate"])}
    if kind == "extension.granted":
        return {"days": rng.choice((7, 14, 30)), "customer": customer}
    if kind == "extension.requested":
        return {"owner": rng.choice(people), "days": rng.choice((7, 14, 30)), "customer": customer}
    return {"by": rng.choice(people), "path": PATH_NAME, "due": today.isoformat()}


def notifications(rng, now, today, users, owned, per_rep):
    """Rows for `notifications`: per_rep for each rep over the last 60 days (fewer for
    others), most read; one rep in ten never reads, one in five only now and then."""
    people = [user.display_name for user in users]
    by_owner = {}
    for customer_id, owner_id, _team, name in owned:
        by_owner.setdefault(owner_id, []).append((customer_id, name))
    fallback = [(customer_id, name) for customer_id, _o, _t, name in owned[:1000]]
    rows = []
    for user in users:
        kinds = CUSTOMER_KINDS if user.role == "rep" else MANAGER_KINDS
        count = per_rep if user.role == "rep" else per_rep // (2 if user.role == "manager" else 6)
        habit = rng.random()
        # Reads everything older than this many days (never: None).
        read_before = None if habit < 0.1 else (14 if habit < 0.3 else rng.uniform(0, 1))
        mine = by_owner.get(user.id) or fallback
        for _ in range(count):
            kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
            customer_id, name = rng.choice(mine)
            created_at = _moment(rng, now, NOTIFICATION_DAYS)
            read_at = None
            if read_before is not None and created_at < now - timedelta(days=read_before):
                read_at = min(now, created_at + timedelta(hours=rng.uniform(0.1, 48)))
            rows.append(
                {
                    "user_id": user.id,
                    "kind": kind,
                    "params": _params(rng, kind, name, people, today),
                    "link": f"/customers/{customer_id}",
                    "dedupe_key": None,
                    "created_at": created_at,
                    "read_at": read_at,
                    "emailed_at": None,
                }
            )
    rows.sort(key=lambda row: row["created_at"])
    return rows


def collisions(rng, now, owned, reps, team_of, managers, count):
    """Collision reports of the last half year on owned customers; about 8 % still open."""
    rows = []
    for _ in range(count):
        customer_id, owner_id, team_id, _name = rng.choice(owned)
        same_team = rng.random() < 0.7
        pool = reps[team_id] if same_team else [rep for team in reps for rep in reps[team]]
        reporter = rng.choice([rep for rep in pool if rep != owner_id])
        created_at = _moment(rng, now, 180)
        open_ = rng.random() < 0.08 or created_at > now - timedelta(days=2)
        decided_at = None if open_ else min(now, created_at + timedelta(days=rng.uniform(0.2, 5)))
        rows.append(
            {
                "customer_id": customer_id,
                "reporter_id": reporter,
                "owner_id": owner_id,
                "team_id": team_id,
                "reason": COLLISION_REASON,
                "status": "open" if open_ else "decided",
                "decision": None if open_ else rng.choices(["keep", "transfer", "collaborate"], (6, 2, 2))[0],
                "decision_note": "" if open_ else "双方证据已核对。",
                "decided_by_id": None if open_ else managers[team_id],
                "decided_at": decided_at,
                "created_at": created_at,
            }
        )
    return rows


def collaborations(rng, now, owned, reps, count, requested):
    """Active collaborators (a teammate on an owned customer) and pending requests."""
    rows, events, seen = [], [], set()
    for number in range(count + requested):
        customer_id, owner_id, team_id, _name = rng.choice(owned)
        user_id = rng.choice([rep for rep in reps[team_id] if rep != owner_id])
        if (customer_id, user_id) in seen:
            continue
        seen.add((customer_id, user_id))
        created_at = _moment(rng, now, 120)
        status = "active" if number < count else "requested"
        rows.append(
            {
                "customer_id": customer_id,
                "user_id": user_id,
                "status": status,
                "message": "" if status == "active" else "我和他们的技术负责人是老同事，可以帮忙约见。",
                "created_at": created_at,
            }
        )
        events.append(
            {
                "customer_id": customer_id,
                "user_id": user_id,
                "action": "added" if status == "active" else "requested",
                "actor_id": owner_id if status == "active" else user_id,
                "at": created_at,
            }
        )
    return rows, events


def blocked_duplicates(rng, now, reps, customers, per_rep_month):
    """`customer.duplicate_blocked` audit events of the last six months."""
    rows = []
    for team_id, members in reps.items():
        for rep in members:
            for _ in range(rng.randint(0, 2 * per_rep_month) * 6):
                rows.append(
                    {
                        "at": _moment(rng, now, 183),
                        "actor_id": rep,
                        "action": "customer.duplicate_blocked",
                        "subject_type": "customers",
                        "subject_id": rng.randint(1, customers),
                        "ip": "10.0.0.1",
                        "details": {"source": rng.choice(["form", "form", "import"]), "team_id": team_id},
                    }
                )
    rows.sort(key=lambda row: row["at"])
    return rows


def points(rng, now, user_ids, manager_ids, count):
    """Awards, thanks and automatic points over the last year (no reversals)."""
    rows = []
    for _ in range(count):
        at = _moment(rng, now, 365)
        recipient, draw = rng.choice(user_ids), rng.random()
        if draw < 0.2:
            giver, kind, amount = rng.choice(manager_ids), "award", rng.choice([5, 10, 20, 30, 50])
        elif draw < 0.95:
            giver, kind, amount = rng.choice(user_ids), "thanks", rng.randint(1, 5)
        else:
            giver, kind, amount = None, "auto", rng.choice([1, 10])
        if giver == recipient:
            recipient = user_ids[(user_ids.index(recipient) + 1) % len(user_ids)]
        rows.append(
            {
                "recipient_id": recipient,
                "giver_id": giver,
                "kind": kind,
                "category": rng.choice(["follow_up", "knowledge", "mentoring", "deal", "other"]),
                "points": amount,
                "reason": rng.choice(REASONS),
                "customer_id": None,
                "article_id": None,
                "cause": None,
                "cause_key": None,
                "reversal_of_id": None,
                "created_at": at,
                "counted_at": at,
            }
        )
    rows.sort(key=lambda row: row["created_at"])
    return rows


def knowledge_base(rng, now, admin, managers, newest_reps):
    """The demo knowledge base's articles (through the services), the onboarding path,
    assigned to the newest reps of each team a week or two ago; some read already."""
    from salesdesk import clock
    from salesdesk.kb.articles import create_article
    from salesdesk.kb.categories import create_category
    from salesdesk.kb.paths import add_to_path, assign_path, create_path
    from salesdesk.kb.reading import acknowledge

    articles = {}
    with clock.at(now - timedelta(days=300)):
        categories = {name: create_category(name=name, actor=admin) for name in ARTICLES}
        for category_name, items in ARTICLES.items():
            for title, tags, stages, body in items:
                articles[title] = create_article(
                    author=admin,
                    title=title,
                    body=body,
                    category_id=categories[category_name].id,
                    tags=tags,
                    stages=stages.split(),
                    publish=True,
                )
    with clock.at(now - timedelta(days=20)):
        path = create_path(name=PATH_NAME, description=PATH_DESCRIPTION, actor=managers[0])
        for title in PATH_TITLES:
            add_to_path(path, articles[title].id, actor=managers[0])
    assigned = 0
    for manager, reps in zip(managers, newest_reps, strict=True):
        for rep in reps:
            days_ago = rng.randint(1, 20)
            with clock.at(now - timedelta(days=days_ago)):
                due = clock.today(manager.timezone) + timedelta(days=rng.randint(3, 14))
                assign_path(path, user_id=rep.id, due_on=due, actor=manager)
            assigned += 1
            for title in PATH_TITLES[: rng.randint(0, len(PATH_TITLES))]:
                with clock.at(now - timedelta(days=rng.uniform(0, days_ago))):
                    acknowledge(articles[title], user=rep, version=articles[title].version)
    return len(articles), assigned


def users_of(session):
    from salesdesk.auth.models import User

    return session.scalars(select(User).order_by(User.id)).all()

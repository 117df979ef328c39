"""The demo knowledge base (data/kb.toml), written through the knowledge base's services:
about 40 articles in six categories, with revisions, votes, a draft, one pending
proposal and the onboarding path 新人第一周 assigned to the newest rep of each team.
Runs after the demo company; does nothing when the categories exist."""

import random
from datetime import timedelta

from sqlalchemy import select, update

from .. import clock
from ..auth.models import User
from ..extensions import db
from ..kb.articles import create_article, save_article
from ..kb.categories import create_category
from ..kb.feedback import vote
from ..kb.models import Article, Category
from ..kb.paths import add_to_path, assign_path, create_path
from ..kb.proposals import propose_edit
from ..kb.reading import acknowledge
from .company import email
from .words import (
    ARTICLES,
    DRAFT,
    EDITS,
    PATH_DESCRIPTION,
    PATH_NAME,
    PATH_TITLES,
    PROPOSAL,
    TEAMS,
    VOTE_COMMENTS,
)


def _user(login):
    return db.session.scalar(select(User).where(User.email == email(login)))


def seed():
    first_category = next(iter(ARTICLES))
    if db.session.scalar(select(Category.id).where(Category.name == first_category)):
        return
    if _user("qian.li") is None:
        return  # the accounts demo did not run
    now = clock.now()
    rng = random.Random(7)
    teams = list(TEAMS.values())
    editors = [_user(staff["support"][0]) for staff in teams] + [
        _user(staff["manager"][0]) for staff in teams
    ]
    readers = [_user(login) for staff in teams for login, _name in staff["reps"]]
    admin = _user("qian.li")

    articles = {}
    total = sum(len(items) for items in ARTICLES.values())
    position = 0
    with clock.at(now - timedelta(days=320)):
        categories = {name: create_category(name=name, actor=admin) for name in ARTICLES}
    for category_name, items in ARTICLES.items():
        for title, tags, stages, body in items:
            # Spread from ten months ago to three weeks ago: some are due for upkeep.
            days_ago = 300 - round(280 * position / total)
            author = editors[position % len(editors)]
            with clock.at(now - timedelta(days=days_ago, hours=rng.randint(1, 8))):
                articles[title] = create_article(
                    author=author,
                    title=title,
                    body=body,
                    category_id=categories[category_name].id,
                    tags=tags,
                    stages=stages.split(),
                    note="初稿",
                    publish=True,
                )
            position += 1
    with clock.at(now - timedelta(days=15)):
        create_article(
            author=editors[0],
            title=DRAFT["title"],
            body=DRAFT["body"],
            category_id=categories[DRAFT["category"]].id,
            tags=DRAFT["tags"],
        )

    _votes(articles, readers + editors, rng, now)
    db.session.execute(
        update(Article).values(view_count=Article.id * 7 % 90 + 5)  # plausible view counts
    )
    db.session.commit()

    # The onboarding path, assigned a few days ago; the newest rep of 华东 has started.
    managers = {staff["reps"][-1][0]: _user(staff["manager"][0]) for staff in teams}
    with clock.at(now - timedelta(days=3)):
        path = create_path(name=PATH_NAME, description=PATH_DESCRIPTION, actor=managers["chen.jing"])
        for title in PATH_TITLES:
            add_to_path(path, articles[title].id, actor=managers["chen.jing"])
        for login, manager in managers.items():
            due = clock.today(manager.timezone) + timedelta(days=4 if login != "he.lei" else -1)
            with clock.at(now - timedelta(days=3 if login != "he.lei" else 9)):
                assign_path(path, user_id=_user(login).id, due_on=due, actor=manager)
    newest = _user("chen.jing")
    with clock.at(now - timedelta(days=2)):
        for title in PATH_TITLES[:3] + ["报价单填写规范"]:
            acknowledge(articles[title], user=newest, version=articles[title].version)

    # Later edits (two of them major, so readers are asked to read again).
    for number, (title, (old, new), note, major) in enumerate(EDITS):
        article = articles[title]
        editor = editors[(number + 2) % len(editors)]
        with clock.at(now - timedelta(days=1, hours=len(EDITS) - number)):
            save_article(
                article,
                editor=editor,
                base_version=article.version,
                title=article.title,
                body=article.body.replace(old, new),
                category_id=article.category_id,
                tags=" ".join(article.tag_names),
                stages=[stage.value for stage in article.stage_values],
                note=note,
                major=major,
            )

    # A rep's proposal waiting for an editor.
    target = articles[PROPOSAL["title"]]
    with clock.at(now - timedelta(hours=5)):
        propose_edit(
            target,
            proposer=_user("li.na"),
            base_version=target.version,
            title=target.title,
            body=target.body + "\n\n" + PROPOSAL["paragraph"],
            note=PROPOSAL["note"],
        )


def _votes(articles, voters, rng, now):
    titles = list(articles)
    weak = set(rng.sample(titles, 6))  # articles readers find less useful
    for title in titles:
        for voter in rng.sample(voters, rng.randint(0, 6)):
            helpful = rng.random() > (0.6 if title in weak else 0.15)
            comment = rng.choice(VOTE_COMMENTS[helpful]) if rng.random() < 0.3 else ""
            with clock.at(now - timedelta(days=rng.randint(2, 20))):
                vote(articles[title], user=voter, helpful=helpful, comment=comment)

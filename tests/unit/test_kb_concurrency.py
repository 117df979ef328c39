"""Two editors saving the same article at the same moment, from two app processes:
exactly one save lands; the other is told (StaleEdit), never a silent overwrite.
Two first votes by one user at once leave one vote."""

import threading

from sqlalchemy import func, select

from salesdesk.extensions import db
from salesdesk.kb import articles, feedback, revisions
from salesdesk.kb.models import Article, Revision, Vote


def run_together(make_app, jobs):
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)
    # Built here, one after the other: CPython 3.11 can fail building the URL map's code
    # in two threads at once ("AST constructor recursion depth mismatch").
    apps = [make_app() for _job in jobs]

    def worker(index, job):
        with apps[index].app_context():
            barrier.wait()
            try:
                job()
                outcomes[index] = "ok"
            except revisions.StaleEdit:
                outcomes[index] = "stale"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_simultaneous_saves_one_wins_one_is_told(make_app, world, article):
    article_id, base = article.id, article.version
    editor_ids = (world.manager_a.id, world.support_a.id)
    db.session.commit()

    def save(editor_id, body):
        def job():
            target = db.session.get(Article, article_id)
            editor = db.session.get(type(world.admin), editor_id)
            articles.save_article(target, editor=editor, base_version=base, title=target.title, body=body)

        return job

    outcomes = run_together(make_app, [save(editor_ids[0], "甲的版本"), save(editor_ids[1], "乙的版本")])
    assert sorted(outcomes) == ["ok", "stale"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 2
    assert article.version == 2 and article.body == ("甲的版本" if outcomes[0] == "ok" else "乙的版本")


def test_simultaneous_first_votes_leave_one(make_app, world, article):
    article_id, user_id = article.id, world.rep_a.id
    db.session.commit()

    def vote(helpful):
        def job():
            feedback.vote(
                db.session.get(Article, article_id),
                user=db.session.get(type(world.admin), user_id),
                helpful=helpful,
            )

        return job

    assert run_together(make_app, [vote(True), vote(False)]) == ["ok", "ok"]
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1

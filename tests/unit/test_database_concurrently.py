"""database.concurrently: read-only calls at the same time, each with a session of its own."""

import threading
from functools import partial

import pytest
from sqlalchemy import func, select

from salesdesk import database
from salesdesk.auth.models import User
from salesdesk.extensions import db


def test_the_calls_run_at_the_same_time_each_in_a_session_of_its_own(app, world):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs them one after the other (the next test)")
    callers = db.session()
    both_running = threading.Barrier(2, timeout=10)

    def count_users(n):
        both_running.wait()  # broken (an error) unless the other call runs meanwhile
        return n, db.session() is not callers, db.session.scalar(select(func.count()).select_from(User))

    users = db.session.scalar(select(func.count()).select_from(User))
    results = database.concurrently([partial(count_users, 1), partial(count_users, 2)])
    assert results == [(1, True, users), (2, True, users)]


def test_what_the_caller_committed_is_read(app, world):
    world.rep_a.display_name = "改过的名字"
    db.session.commit()
    name = database.concurrently([lambda: db.session.get(User, world.rep_a.id).display_name])
    assert name == ["改过的名字"]


def test_an_error_in_a_call_reaches_the_caller(app):
    with pytest.raises(ZeroDivisionError):
        database.concurrently([lambda: 1, lambda: 1 / 0])
    assert database.concurrently([lambda: "still works"]) == ["still works"]


def test_on_sqlite_they_run_in_order_in_the_callers_session(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL runs them at the same time (the first test)")
    callers = db.session()
    ran = []

    def call(n):
        ran.append(n)
        return db.session() is callers

    assert database.concurrently([partial(call, 1), partial(call, 2)]) == [True, True]
    assert ran == [1, 2]

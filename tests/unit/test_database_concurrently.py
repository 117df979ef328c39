"""database.concurrently: read-only calls two at a time, the caller's session and a reader's."""

import threading
import time
from functools import partial

import pytest
from sqlalchemy import func, select, text

from salesdesk import create_app, database
from salesdesk.auth.models import User
from salesdesk.extensions import db


def test_two_calls_run_at_the_same_time_the_callers_session_and_another(app, world):
    callers = db.session()
    both_running = threading.Barrier(2, timeout=10)

    def count_users(n):
        both_running.wait()  # broken (an error) unless the other call runs meanwhile
        return n, db.session() is callers, db.session.scalar(select(func.count()).select_from(User))

    users = db.session.scalar(select(func.count()).select_from(User))
    (first, first_in_callers, first_users), (second, second_in_callers, second_users) = database.concurrently(
        [partial(count_users, 1), partial(count_users, 2)]
    )
    assert (first, second) == (1, 2)
    assert sorted([first_in_callers, second_in_callers]) == [False, True]
    assert first_users == second_users == users


def test_every_result_comes_back_in_the_order_of_the_calls(app):
    def square(n):
        return n * n

    assert database.concurrently([partial(square, n) for n in range(40)]) == [n * n for n in range(40)]
    assert database.concurrently([]) == []


def test_what_the_caller_committed_is_read(app, world):
    world.rep_a.display_name = "改过的名字"
    db.session.commit()
    rep_id = world.rep_a.id  # read here: no call may touch the caller's objects
    read = database.concurrently([lambda: db.session.get(User, rep_id).display_name] * 4)
    assert read == ["改过的名字"] * 4


@pytest.mark.parametrize("failing", [0, 1, 5])
def test_an_error_in_a_call_reaches_the_caller_whichever_thread_ran_it(app, failing):
    calls = [lambda: 1] * 6
    calls[failing] = lambda: 1 / 0
    with pytest.raises(ZeroDivisionError):
        database.concurrently(calls)
    assert database.concurrently([lambda: "still works"] * 2) == ["still works"] * 2


def test_an_in_memory_database_is_read_in_the_callers_session_alone():
    memory = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with memory.app_context():
        callers = db.session()

        def slowly():
            time.sleep(0.01)  # long enough for a reader, were there one, to take a call
            return db.session() is callers

        assert database.concurrently([slowly] * 6) == [True] * 6
        db.session.remove()


def test_on_sqlite_the_reader_keeps_a_connection_of_its_own_without_a_map_of_the_file(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's reader")
    both_running = threading.Barrier(2, timeout=10)

    def map_and_connection():
        both_running.wait()
        connection = db.session.connection().connection.dbapi_connection
        return db.session.scalar(text("PRAGMA mmap_size")), id(connection)

    first = database.concurrently([map_and_connection] * 2)
    again = database.concurrently([map_and_connection] * 2)
    mapped = db.session.scalar(text("PRAGMA mmap_size"))
    assert sorted(size for size, _ in first) == sorted(size for size, _ in again) == [0, mapped]
    assert mapped > 0
    # The same two connections each time: the reader's was kept, not opened again.
    assert {connection for _, connection in first} == {connection for _, connection in again}
    assert db.engine.pool.size() == 1

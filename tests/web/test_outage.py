"""Finding 9 of the hardening issue: while the database is down, a logged-in user gets
the app's own 503 page (in their language, with Retry-After), not Werkzeug's bare
"Internal Server Error"; the pages come back as soon as the database does."""

import pytest
from sqlalchemy import event

from salesdesk.auth import services as accounts
from salesdesk.extensions import db


@pytest.fixture
def outage(app):
    """outage(True) makes every new database connection fail, as when PostgreSQL is
    restarting; outage(False) ends it."""
    engine = db.engine
    refused = engine.dialect.loaded_dbapi.OperationalError

    def refuse(*_args, **_kwargs):
        raise refused("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    def set_down(down):
        if down:
            event.listen(engine, "do_connect", refuse)
        elif event.contains(engine, "do_connect", refuse):
            event.remove(engine, "do_connect", refuse)
        db.session.close()  # the test's own connection goes back to the pool first
        engine.dispose()  # no pooled connection survives the outage

    yield set_down
    set_down(False)


def test_finding_9_a_logged_in_user_gets_the_503_page_while_the_database_is_down(client_as, world, outage):
    client = client_as(world.rep_a)
    assert client.get("/").status_code == 200
    outage(True)
    for path in ("/", "/customers", "/pool", "/kb/", "/leaderboard"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "30"
        assert "服务暂不可用" in html and "暂时无法连接数据库" in html, path
        assert "Internal Server Error" not in html
    outage(False)
    assert client.get("/customers").status_code == 200, "the pages come back with the database"


def test_finding_9_an_htmx_request_gets_a_toast_while_the_database_is_down(client_as, world, outage):
    client = client_as(world.rep_a)
    client.get("/")
    outage(True)
    response = client.get("/customers?q=华", htmx=True)
    assert response.status_code == 503 and "HX-Trigger" in response.headers
    assert "暂时无法连接数据库" in response.get_data(as_text=True)


def test_finding_9_the_outage_page_speaks_the_users_language(client_as, world, outage):
    accounts.set_language(world.rep_a, "en")
    client = client_as(world.rep_a)
    client.get("/")  # the language is settled into the session on the first page
    outage(True)
    response = client.get("/customers")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and 'lang="en"' in html
    assert "Service unavailable" in html and "The database cannot be reached" in html


def test_finding_9_a_write_during_the_outage_is_refused_plainly(client_as, world, outage):
    client = client_as(world.rep_a)
    client.get("/")
    outage(True)
    response = client.post("/customers/new", data={"name": "停电期间的客户"})
    assert response.status_code == 503 and "暂时无法连接数据库" in response.get_data(as_text=True)


def test_finding_9_a_server_error_page_renders_without_the_database(
    app, client_as, world, outage, monkeypatch
):
    """A bug in a view, and the database gone by the time the error page renders: the
    500 page reads neither the user nor the bell."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = client_as(world.rep_a)
    client.get("/")

    def broken_view():
        outage(True)
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.view_functions, "workbench.home", broken_view)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "出错了" in html and "Internal Server Error" not in html

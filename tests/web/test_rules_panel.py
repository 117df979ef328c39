"""The rules' card on the customer page: built by rules/panel.py before rendering and
included by the ledger's page without `ignore missing`, so a renamed template fails
loudly instead of silently hiding the Claim button."""

from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template
from jinja2 import TemplateNotFound
from sqlalchemy import event

from salesdesk.extensions import db
from salesdesk.rules import panel
from tests.fixtures.ledger import make_customer

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
PANEL = "rules/_customer_panel.html"


def html_of(response):
    return response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def at_ten(frozen_clock):
    frozen_clock(NOW)


def test_a_pool_customer_shows_the_claim_button(client_as, world):
    pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
    html = html_of(client_as(world.rep_a).get(f"/customers/{pooled.id}"))
    assert f'action="/customers/{pooled.id}/claim"' in html and 'id="protection"' in html


def test_an_owned_customer_shows_its_countdown(client_as, world, frozen_clock):
    owned = make_customer(world.rep_a)
    page = client_as(world.rep_a)
    html = html_of(page.get(f"/customers/{owned.id}"))
    assert "reclaim-line" in html and "reclaim-soon" not in html
    frozen_clock(owned.reclaim_at - timedelta(days=3))  # the edge of the warning window
    html = html_of(page.get(f"/customers/{owned.id}"))
    assert "reclaim-soon" in html and "badge-danger" in html


def test_a_missing_panel_template_fails_the_page(client_as, world, app, monkeypatch):
    pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
    loader = app.jinja_env.loader
    original = loader.get_source

    def without_the_panel(environment, template):
        if template == PANEL:
            raise TemplateNotFound(template)
        return original(environment, template)

    monkeypatch.setattr(loader, "get_source", without_the_panel)
    app.jinja_env.cache.clear()
    try:
        with pytest.raises(TemplateNotFound):  # TESTING propagates it; in production a 500
            client_as(world.rep_a).get(f"/customers/{pooled.id}")
    finally:
        app.jinja_env.cache.clear()


def test_the_panel_renders_without_reading_the_database(app, world):
    owned = make_customer(world.rep_a)
    statements = []

    def record(_connection, _cursor, statement, *_rest):
        statements.append(statement)

    with app.test_request_context():
        context = panel.customer_panel(world.manager_a, owned, NOW)
        assert context["countdown"].days == 15 and context["assign_form"] is not None
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            html = render_template(PANEL, customer=owned, panel=context)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert statements == [] and "reclaim-line" in html

"""The rules' card on the customer page: built by rules/panel.py before rendering and
included by the ledger's page without `ignore missing`, so a renamed template fails
loudly instead of silently hiding the Claim button."""

from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template
from jinja2 import TemplateNotFound

from salesdesk.rules import extensions, panel
from tests.fixtures.ledger import make_customer
from tests.helpers import recorded_statements

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
    with app.test_request_context():
        context = panel.customer_panel(world.manager_a, owned, NOW)
        assert context["countdown"].days == 15 and context["assign_form"] is not None
        with recorded_statements() as statements:
            html = render_template(PANEL, customer=owned, panel=context)
    assert statements == [] and "reclaim-line" in html


# ---- refused inline forms: the page again, with the errors and what was typed (422) ----


def test_a_refused_release_shows_the_customer_page_with_what_was_typed(client_as, world):
    owned = make_customer(world.rep_a)
    typed = "太长的理由" * 101  # 505 characters
    response = client_as(world.rep_a).post(f"/customers/{owned.id}/release", data={"reason": typed})
    html = html_of(response)
    assert response.status_code == 422 and typed in html and 'class="form-errors"' in html
    assert owned.owner_id == world.rep_a.id


def test_a_refused_extension_says_why_even_when_it_can_no_longer_be_asked(client_as, world, frozen_clock):
    owned = make_customer(world.rep_a)
    frozen_clock(owned.reclaim_at + timedelta(hours=1))
    response = client_as(world.rep_a).post(
        f"/customers/{owned.id}/extension", data={"days": "5", "reason": "客户预算下月批"}
    )
    assert response.status_code == 422 and 'class="form-errors"' in html_of(response)


def test_a_refused_decision_keeps_the_days_typed_on_the_page_it_came_from(client_as, world):
    owned = make_customer(world.rep_a)
    client_as(world.rep_a).post(f"/customers/{owned.id}/extension", data={"days": "10", "reason": "理由"})
    extension_id = extensions.pending_extensions(world.manager_a)[0].id
    manager = client_as(world.manager_a)
    from_list = manager.post(f"/extensions/{extension_id}/grant", data={"days": "91", "note": "好"})
    assert from_list.status_code == 422 and 'id="extensions"' in html_of(from_list)
    assert 'value="91"' in html_of(from_list)
    on_page = f"/customers/{owned.id}"
    from_page = manager.post(
        f"/extensions/{extension_id}/grant", data={"days": "0", "note": "", "next": on_page}
    )
    assert from_page.status_code == 422 and 'id="protection"' in html_of(from_page)
    assert 'value="0"' in html_of(from_page)


def test_a_refused_bulk_assignment_shows_the_list_it_came_from(client_as, world):
    pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
    response = client_as(world.manager_a).post(
        "/customers/assign",
        data={
            "customer_ids": [pooled.id],
            "user_id": world.rep_a2.id,
            "reason": "",
            "next": "/customers?view=pool",
        },
    )
    html = html_of(response)
    assert response.status_code == 422 and 'id="bulk-assign"' in html and "公海客户有限公司" in html
    # The list's own links, not the POST's URL: filtering again works.
    assert 'action="/customers"' in html and 'value="/customers?view=pool"' in html
    assert pooled.in_pool

"""Finding 5 from the pages' side: a form is refused when a field of its form class is
missing from the post, so every page must render every such field. Each form on each
page of the route table is posted as a browser would send it, nothing typed: it may be
refused for what it says, never as incomplete, never with a server error."""

import re

import pytest

from salesdesk import clock
from tests.fixtures.ledger import make_customer
from tests.helpers import form_on_page
from tests.web.route_matrix.routes import ROUTES, build_url, expected_for
from tests.web.route_matrix.scene import ACTORS, build_scene

INCOMPLETE = ("表单缺少此项", "This field is missing from the form")


def pages(app, role, ids):
    adapter = app.url_map.bind("localhost")
    for endpoint, items in sorted(ROUTES.items()):
        for item in items:
            if item.get is not None and expected_for(item.get, role) == "200":
                yield build_url(adapter, endpoint, item, ids)


def post_forms(html):
    """The actions of the page's POST forms; None for one that posts to the page itself."""
    for tag in re.findall(r"<form\b[^>]*>", html):
        if 'method="post"' in tag.lower() and "logout" not in tag:
            action = re.search(r'\baction="([^"]*)"', tag)
            yield action.group(1).replace("&amp;", "&") if action else None


@pytest.mark.parametrize("role", ["rep", "support", "manager", "admin"])
def test_finding_5_every_page_sends_every_field_its_form_asks_for(app, world, role):
    ids = build_scene(world)
    for owner in (world.rep_a, world.manager_a):  # the workbench's one-click follow-up forms
        make_customer(owner, f"到期{owner.id}号有限公司", next_follow_up_on=clock.today("Asia/Shanghai"))
    client = app.test_client().login_as(getattr(world, ACTORS[role]))
    failures = []
    for url in pages(app, role, ids):
        page = client.get(url)
        if page.status_code != 200 or "html" not in page.content_type:
            continue  # the page changed under an earlier post, or is a download
        html = page.get_data(as_text=True)
        for action in dict.fromkeys(post_forms(html)):
            posted = form_on_page(html, action)
            response = client.post(action or url, data=posted, csrf=False)
            text = response.get_data(as_text=True)
            if response.status_code >= 500 or any(message in text for message in INCOMPLETE):
                failures.append(f"{url} form {action}: {response.status_code}, sent {sorted(posted)}")
    assert not failures, "\n".join(failures)

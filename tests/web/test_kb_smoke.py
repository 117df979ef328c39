"""Every knowledge-base page renders for every role (a smoke test; details elsewhere)."""

import pytest

PAGES = [
    "/kb/",
    "/kb/{a}",
    "/kb/search?q=报价",
    "/kb/paths",
    "/kb/playbooks",
    "/kb/proposals",
]
EDITOR_PAGES = [
    "/kb/new",
    "/kb/{a}/edit",
    "/kb/{a}/history",
    "/kb/{a}/diff",
    "/kb/{a}/revisions/1",
    "/kb/insights",
    "/kb/categories",
    "/kb/paths/new",
]


@pytest.mark.parametrize("role", ["admin", "manager_a", "support_a", "rep_a"])
def test_pages_render(client_as, world, article, role):
    client = client_as(getattr(world, role))
    editor = role != "rep_a"
    for page in PAGES + EDITOR_PAGES:
        response = client.get(page.format(a=article.id))
        expected = 200 if editor or page in PAGES else 403
        assert response.status_code == expected, (page, response.status_code)

"""The workbench with everything it loads stays under 100 KB uncompressed."""

import re

BUDGET = 100 * 1024


def test_home_page_with_css_and_javascript_fits_the_budget(client_as, world):
    client = client_as(world.rep_a)
    html = client.get("/").get_data()
    assets = set(re.findall(rb'(?:src|href)="(/static/[^"#?]+)', html))
    assert {b"/static/css/app.css", b"/static/js/htmx.min.js", b"/static/js/app.js"} <= assets
    total = len(html)
    for path in assets:
        total += len(client.get(path.decode()).get_data())
    assert total <= BUDGET, f"{total} bytes"

"""On a phone (390×844), the duplicate warning appears right under the name field
while the rep types a trade name (字号), not at the end of the form."""

from playwright.sync_api import expect

from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login


def test_typing_a_trade_name_shows_the_warning_right_under_the_name_on_a_phone(page, world):
    make_customer(world.rep_b, "金华浙宏自动化设备有限公司")
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "rep.a@test.example")
    page.goto("/customers/new")

    page.fill("#name", "浙宏")
    warning = page.locator("#duplicate-check .duplicate-warn")
    expect(warning).to_contain_text("金华浙宏自动化设备有限公司")
    expect(warning).to_contain_text("字号相同：浙宏")
    expect(warning).to_contain_text("王五")

    name = page.locator("#name").bounding_box()
    box = warning.bounding_box()
    gap = box["y"] - (name["y"] + name["height"])
    assert 0 <= gap <= 40, gap  # just below the input, nothing between
    assert box["x"] < 40 and box["width"] > 300  # the width of the phone's column
    assert box["y"] < 844  # on the first screen, where the rep is typing

    # Another company: the warning goes, and the all-clear takes its place.
    page.fill("#name", "宁波海港物流有限公司")
    expect(page.locator("#duplicate-check .duplicate-ok")).to_be_visible()

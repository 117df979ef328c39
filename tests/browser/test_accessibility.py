"""axe-core on the main pages at desktop (1366×768) and phone (390×844) size: any
serious or critical violation fails, with the rule, the page and the elements printed.
axe is vendored in tests/browser/vendor/ (see its README) and injected by the test only."""

from pathlib import Path

import pytest

from salesdesk.fields import definitions as field_definitions
from salesdesk.fields.definitions import Values
from salesdesk.support import lifecycle
from salesdesk.support import requests as support_requests
from tests.fixtures.kb import write
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import award
from tests.fixtures.support import draft, make_type
from tests.helpers import browser_login

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture
def scene(world):
    """Something on every page: a won customer with a contact (green badge, tel: link)
    and custom fields of several controls, a pool customer, a playbook article (打法 tag),
    points (leaderboard, notification)."""
    choices = [("", "展会", "", False), ("", "转介绍", "", False)]
    size = field_definitions.create_field(
        world.admin, Values(label_zh="获客渠道", type="single_choice", choices=choices, required=True)
    )
    field_definitions.create_field(
        world.admin, Values(label_zh="关注产品", type="multiple_choice", choices=choices)
    )
    field_definitions.create_field(world.admin, Values(label_zh="合同到期日", type="date"))
    won = make_customer(
        world.rep_a,
        "苏州恒达精密机械有限公司",
        phone="13800138000",
        stage="won",
        tags="老客户",
        custom={size.key: "展会"},
    )
    make_customer(
        world.rep_a,
        "宁波海港物流有限公司",
        phone="13655556666",
        stage="negotiating",
        custom={size.key: "转介绍"},
    )
    make_customer(world.manager_a, "杭州云栖软件有限公司", pool=True, custom={size.key: "展会"})
    body = "报价单必须写明**有效期**和付款方式。"
    article = write(world.manager_a, "报价单填写规范", body, stages=["won", "quoted"])
    award(world.manager_a, world.rep_a)
    # A support request with a reply, a note and a rating waiting (the desk's pages).
    quote = make_type("华东报价支持", world.team_a)
    request = support_requests.file_request(world.rep_a, draft(quote, customer_id=won.id, priority="urgent"))
    lifecycle.accept(world.support_a, request.id)
    lifecycle.reply(world.support_a, request.id, "内部：按去年的框架价", internal=True)
    lifecycle.resolve(world.support_a, request.id, "报价单已发")
    return {"customer": won, "article": article, "request": request, "field": size}


def run_axe(page):
    page.add_script_tag(content=AXE)
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + "  " + n.failureSummary.replace(/\\s+/g, " ")),
            }));
        }"""
    )


def audit(browser, live_server, size, visits):
    """visits: [(email or None, [paths])]. Returns the failing violations, described."""
    width, height = SIZES[size]
    failures = []
    for email, paths in visits:
        # The app's CSP forbids inline scripts, axe's included: the test context lifts it.
        viewport = {"width": width, "height": height}
        context = browser.new_context(base_url=live_server, viewport=viewport, bypass_csp=True)
        context.set_default_timeout(10_000)
        page = context.new_page()
        if email:
            browser_login(page, email)
        for path in paths:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            for violation in run_axe(page):
                if violation["impact"] in FAILING_IMPACTS:
                    nodes = "\n      ".join(violation["nodes"][:5])
                    failures.append(
                        f"{size} {email or 'anonymous'} {path}: {violation['impact']} {violation['id']} "
                        f"({violation['help']})\n      {nodes}"
                    )
        context.close()
    return failures


@pytest.mark.parametrize("size", SIZES)
def test_main_pages_have_no_serious_violations(browser, live_server, world, scene, size):
    customer, article = scene["customer"], scene["article"]
    visits = [
        (None, ["/login"]),
        (
            "rep.a@test.example",
            [
                "/",
                "/customers",
                f"/customers/{customer.id}",
                "/customers/new",
                "/pool",
                "/kb/",
                f"/kb/{article.id}",
                "/leaderboard",
                "/notifications",
                "/support",
                "/support/new",
                f"/support/{scene['request'].id}",
            ],
        ),
        ("support.a@test.example", ["/", "/support", f"/support/{scene['request'].id}"]),
        ("manager.a@test.example", ["/", "/support/metrics"]),
        (
            "admin@test.example",
            [
                "/admin/users",
                "/admin/support/types",
                "/admin/support/calendar",
                "/admin/support/settings",
                "/admin/fields",
                "/admin/fields/new",
                f"/admin/fields/{scene['field'].id}",
            ],
        ),
    ]
    failures = audit(browser, live_server, size, visits)
    print("\n".join(failures))
    assert not failures, f"{len(failures)} serious or critical axe violations:\n" + "\n".join(failures)

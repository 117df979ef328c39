"""Who may do what with the rules (rules/access.py): a collision report shows follow-up
text only to those who may see the customer's details (finding 1); only reps and managers
file, and a transfer only goes to someone who may hold customers (finding 2); and what
the pages offer is what the services accept."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from salesdesk.auth import services as accounts
from salesdesk.errors import DomainError, Forbidden
from salesdesk.extensions import db
from salesdesk.ledger.models import Customer
from salesdesk.notifications import Notification
from salesdesk.rules import assignment, collisions
from salesdesk.rules.models import CollisionReport
from tests.fixtures.ledger import make_customer
from tests.fixtures.rules import FIRST_TEXT, LAST_TEXT, T0, file


def html_of(response):
    return response.get_data(as_text=True)


def the_report():
    return db.session.scalar(select(CollisionReport))


def report_count():
    return db.session.scalar(select(func.count()).select_from(CollisionReport))


def notification_texts(user):
    query = select(Notification).where(Notification.user_id == user.id)
    return [notification.message for notification in db.session.scalars(query)]


def legacy_report(reporter, customer):
    """A report such as the app accepted before finding 2 was closed (or filed by
    someone whose role changed since)."""
    report = CollisionReport(
        customer_id=customer.id,
        reporter_id=reporter.id,
        owner_id=customer.owner_id,
        team_id=customer.owner.team_id,
        reason="我先认识的",
        created_at=T0,
    )
    db.session.add(report)
    db.session.commit()
    return report


# ---- finding 1: the evidence shows follow-up text only to who may read it ----------------


def test_finding_1_collision_report_hides_follow_up_text_from_the_reporter(client_as, world, disputed):
    reporter = client_as(world.rep_b)
    assert file(reporter, disputed).status_code == 303
    report = the_report()
    url = f"/collisions/{report.id}"

    page = html_of(reporter.get(url))
    fragment = html_of(reporter.get(url, htmx=True))
    assert "<html" in page and "<html" not in fragment
    for html in (page, fragment):
        assert FIRST_TEXT not in html and LAST_TEXT not in html
        # Dates and that follow-ups exist stay: they are what the reporter argues about.
        assert "2026/3/3" in html and "2026/3/5" in html
        assert '<dd class="follow-up-count">2</dd>' in html
        assert "13912345678" not in html

    # The owner's manager, who decides, reads them (page and fragment).
    manager = client_as(world.manager_a)
    for html in (html_of(manager.get(url)), html_of(manager.get(url, htmx=True))):
        assert FIRST_TEXT in html and LAST_TEXT in html

    # The manager decides; both sides are notified, and no notification quotes a follow-up.
    assert manager.post(url, data={"decision": "keep", "note": "负责人跟进更早"}).status_code == 303
    for user in (world.rep_b, world.rep_a, world.manager_a):
        texts = notification_texts(user)
        assert texts and not any(FIRST_TEXT in t or LAST_TEXT in t for t in texts)
    listing = html_of(reporter.get("/notifications"))
    assert "宁波海港物流有限公司" in listing and FIRST_TEXT not in listing and LAST_TEXT not in listing
    # After the decision the reporter still reads no text.
    decided = html_of(reporter.get(url))
    assert FIRST_TEXT not in decided and LAST_TEXT not in decided


def test_the_owner_and_admins_read_the_evidence(client_as, world, disputed):
    file(client_as(world.rep_b), disputed)
    url = f"/collisions/{the_report().id}"
    for user in (world.rep_a, world.admin):
        client = client_as(user)
        for html in (html_of(client.get(url)), html_of(client.get(url, htmx=True))):
            assert FIRST_TEXT in html and LAST_TEXT in html


def test_finding_1_an_invalid_decision_by_htmx_answers_the_fragment(client_as, world, disputed):
    file(client_as(world.rep_b), disputed)
    report = the_report()
    response = client_as(world.manager_a).post(
        f"/collisions/{report.id}", data={"decision": "keep", "note": ""}, htmx=True
    )
    html = html_of(response)
    assert response.status_code == 422 and "<html" not in html and LAST_TEXT in html
    assert report.status == "open"


# ---- finding 2: only sellers file; a transfer goes only to who may hold customers ----------


@pytest.mark.parametrize("role", ["support_a", "admin"])
def test_finding_2_support_and_admin_may_not_file_a_collision_report(client_as, world, disputed, role):
    client = client_as(getattr(world, role))
    assert client.get(f"/customers/{disputed.id}/collision").status_code == 403
    assert file(client, disputed).status_code == 403
    assert report_count() == 0
    assert f"/customers/{disputed.id}/collision" not in html_of(client.get(f"/customers/{disputed.id}"))
    with pytest.raises(Forbidden):
        collisions.file_collision(getattr(world, role), disputed.id, "我先认识的")


@pytest.mark.parametrize("reporter", ["support_a", "admin"])
def test_finding_2_transfer_to_support_or_admin_is_refused(client_as, world, disputed, reporter):
    report = legacy_report(getattr(world, reporter), disputed)
    manager = client_as(world.manager_a)
    page = html_of(manager.get(f"/collisions/{report.id}"))
    assert 'value="keep"' in page and 'value="transfer"' not in page  # not offered
    response = manager.post(f"/collisions/{report.id}", data={"decision": "transfer", "note": "转给申诉人"})
    assert response.status_code == 422
    # The service refuses it too, whatever the form offers.
    with pytest.raises(DomainError):
        collisions.decide_collision(world.manager_a, report.id, "transfer", "转给申诉人")
    db.session.refresh(disputed)
    assert disputed.owner_id == world.rep_a.id and the_report().status == "open"


def test_finding_2_transfer_to_a_reporter_who_no_longer_sells_is_refused(client_as, world, disputed):
    file(client_as(world.rep_a2), disputed)
    report = the_report()
    # The reporter moved to support after filing.
    accounts.update_user(
        world.rep_a2,
        actor=world.admin,
        email=world.rep_a2.email,
        display_name=world.rep_a2.display_name,
        role="support",
        team=world.team_a,
        locale="zh_Hans_CN",
    )
    response = client_as(world.manager_a).post(
        f"/collisions/{report.id}", data={"decision": "transfer", "note": "转给申诉人"}
    )
    assert response.status_code == 422
    db.session.refresh(disputed)
    assert disputed.owner_id == world.rep_a.id
    # Keeping the owner or adding a collaborator is still possible.
    assert (
        client_as(world.manager_a)
        .post(f"/collisions/{report.id}", data={"decision": "collaborate", "note": "一起跟"})
        .status_code
        == 303
    )


def test_transfer_to_an_inactive_reporter_is_refused(client_as, world, disputed):
    file(client_as(world.rep_a2), disputed)
    report = the_report()
    accounts.deactivate_user(world.rep_a2, actor=world.admin)
    response = client_as(world.manager_a).post(
        f"/collisions/{report.id}", data={"decision": "transfer", "note": "转给申诉人"}
    )
    assert response.status_code == 422
    db.session.refresh(disputed)
    assert disputed.owner_id == world.rep_a.id


@pytest.mark.parametrize("target", ["support_a", "admin"])
def test_assign_goes_only_to_who_may_hold_customers(world, disputed, target):
    with pytest.raises(DomainError):
        assignment.assign(world.admin, [disputed.id], getattr(world, target).id, "调整")
    db.session.refresh(disputed)
    assert disputed.owner_id == world.rep_a.id


# ---- the pages offer what the services accept -------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager_a", "rep_a", "support_a"])
def test_the_claim_button_is_shown_exactly_when_the_service_accepts_the_role(client_as, world, role):
    user = getattr(world, role)
    pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
    client = client_as(user)
    offered_on_pool = "/claim" in html_of(client.get("/pool"))
    offered_on_page = "/claim" in html_of(client.get(f"/customers/{pooled.id}"))
    accepted = client.post(f"/customers/{pooled.id}/claim").status_code == 303
    assert offered_on_pool == offered_on_page == accepted
    assert accepted == (role in ("manager_a", "rep_a"))


def test_no_extension_is_offered_after_the_deadline(client_as, world, frozen_clock):
    frozen_clock(T0)
    customer = make_customer(world.rep_a, "过期客户有限公司")
    owner = client_as(world.rep_a)
    assert "/extension" in html_of(owner.get(f"/customers/{customer.id}"))
    # Past the deadline, before the reclaim job has run: the service refuses, so does the page.
    frozen_clock(customer.reclaim_at + timedelta(hours=1))
    assert "/extension" not in html_of(owner.get(f"/customers/{customer.id}"))
    response = owner.post(f"/customers/{customer.id}/extension", data={"days": 5, "reason": "客户预算下月批"})
    assert response.status_code == 422 and "之前申请" in html_of(response)


def test_the_collision_link_is_shown_exactly_when_filing_is_possible(client_as, world, disputed):
    rep = client_as(world.rep_b)
    assert f"/customers/{disputed.id}/collision" in html_of(rep.get(f"/customers/{disputed.id}"))
    file(rep, disputed)
    # A report already waiting: the service refuses a second one, the page no longer offers it.
    assert f"/customers/{disputed.id}/collision" not in html_of(rep.get(f"/customers/{disputed.id}"))
    assert file(rep, disputed).status_code == 422


def test_duplicate_cards_offer_a_collision_report_only_to_sellers(client_as, world, disputed):
    from tests.fixtures.ledger import new_customer_form

    form = new_customer_form(name="宁波海港物流有限公司")
    for user, offered in ((world.rep_b, True), (world.manager_b, True), (world.support_a, False)):
        html = html_of(client_as(user).post("/customers/new", data=form))
        assert (f"/customers/{disputed.id}/collision" in html) == offered
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_finding_1_ownership_remarks_in_the_evidence_are_for_detail_viewers_only(client_as, world, disputed):
    assignment.assign(world.manager_a, [disputed.id], world.rep_a2.id, "张三休产假，客户暂交李四")
    file(client_as(world.rep_b), disputed)
    url = f"/collisions/{the_report().id}"
    reporter_page = html_of(client_as(world.rep_b).get(url))
    assert "李四" in reporter_page and "张三休产假" not in reporter_page  # who, not why
    assert "张三休产假" in html_of(client_as(world.manager_a).get(url))


@pytest.mark.parametrize("role", ["admin", "manager_a", "rep_a", "support_a"])
def test_ledger_and_workbench_offer_what_the_services_accept(client_as, world, role):
    client = client_as(getattr(world, role))
    customer = make_customer(world.rep_a, "分配客户有限公司")
    may_assign = 'id="bulk-assign"' in html_of(client.get("/customers"))
    assigned = client.post(
        "/customers/assign",
        data={"customer_ids": [customer.id], "user_id": world.rep_a2.id, "reason": "平衡客户量"},
    )
    assert may_assign == (assigned.status_code == 303) == (role in ("admin", "manager_a"))
    picks_owner = 'name="owner_id"' in html_of(client.get("/customers/new"))
    assert picks_owner == (role in ("admin", "manager_a"))
    home = html_of(client.get("/"))
    links_history = "/rules/ownership?reason=claim" in home
    assert links_history == (client.get("/rules/ownership").status_code == 200) == (role == "admin")
    assert ('id="team-switch"' in home) == (role == "admin")


# ---- managers read the rules (issue 16, item 8) -------------------------------------------


@pytest.fixture
def team_rules(world):
    assignment.set_strategy(world.admin, world.team_a.id, "territory")
    assignment.set_territories(world.admin, world.team_a.id, [("浙江", "", world.rep_a.id)])
    assignment.set_strategy(world.admin, world.team_b.id, "round_robin")
    assignment.set_territories(world.admin, world.team_b.id, [("广东", "深圳", world.rep_b.id)])
    db.session.commit()


def test_a_manager_reads_the_limits_and_their_team_s_rules_without_forms(client_as, world, team_rules):
    response = client_as(world.manager_a).get("/rules")
    html = html_of(response)
    assert response.status_code == 200
    assert "每位销售每日领取上限" in html and "华东大区" in html
    assert "按区域分配" in html and "浙江" in html and "全省" in html and "张三" in html
    # Another team's rules are not theirs to read.
    assert "华南大区" not in html and "深圳" not in html and "王五" not in html
    # Read-only: no form, field or save button, no administration tabs.
    main = html.split("<main")[1].split("</main>")[0]
    assert not any(tag in main for tag in ("<form", "<input", "<select", "<button"))
    assert "保存" not in main and 'href="/admin/users"' not in main


def test_an_admin_still_edits_every_team_s_rules(client_as, world, team_rules):
    html = html_of(client_as(world.admin).get("/rules"))
    assert "华东大区" in html and "华南大区" in html and 'value="深圳"' in html
    assert f'action="/rules/teams/{world.team_a.id}/territories"' in html and "保存规则" in html


@pytest.mark.parametrize(
    "path", ["/rules", "/rules/teams/{team}/strategy", "/rules/teams/{team}/territories"]
)
def test_a_manager_changes_nothing(client_as, world, team_rules, path):
    before = assignment.territories([world.team_a.id])
    response = client_as(world.manager_a).post(
        path.format(team=world.team_a.id),
        data={"strategy": "pool", "province": "", "city": "", "user_id": "", "claims_per_day": "1"},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert assignment.territories([world.team_a.id]) == before
    assert assignment.strategy_of(world.team_a.id) == "territory"


@pytest.mark.parametrize("role", ["rep_a", "support_a"])
def test_reps_and_support_do_not_read_the_rules_page(client_as, world, role):
    assert client_as(getattr(world, role)).get("/rules").status_code == 403

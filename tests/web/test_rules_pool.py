"""The public pool: claiming, its limits and cooldown, releasing, and races."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from salesdesk import settings
from salesdesk.extensions import db
from salesdesk.ledger.models import Collaborator, Customer, OwnershipChange
from salesdesk.rules.settings import update_settings
from tests.fixtures.ledger import make_customer
from tests.helpers import LiveClient, make_user

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def pooled(world, frozen_clock):
    frozen_clock(NOW)
    return [
        make_customer(world.manager_a, f"公海{n}号贸易有限公司", phone=f"1360000{n:04d}", pool=True)
        for n in range(5)
    ]


def set_rules(admin, **values):
    update_settings(admin, {**settings.DEFAULTS, **values}, {})


def html_of(response):
    return response.get_data(as_text=True)


def claims(customer):
    db.session.rollback()  # see what other connections committed
    return db.session.scalar(
        select(func.count())
        .select_from(OwnershipChange)
        .where(OwnershipChange.customer_id == customer.id, OwnershipChange.reason == "claim")
    )


def test_the_pool_lists_customers_without_owner_masked(client_as, world, pooled):
    make_customer(world.rep_a, "有主客户有限公司")
    html = html_of(client_as(world.rep_a2).get("/pool"))
    assert "公海0号贸易有限公司" in html and "有主客户有限公司" not in html
    assert "136****0000" in html and "13600000000" not in html
    assert "公海共 5 个客户" in html and "领取" in html


def test_pool_search_and_htmx_fragment(client_as, world, pooled):
    rep = client_as(world.rep_a)
    fragment = html_of(rep.get("/pool?q=公海3", htmx=True))
    assert "<html" not in fragment and "公海3号贸易有限公司" in fragment and "公海2号" not in fragment


def test_a_rep_claims_a_pool_customer(client_as, world, pooled):
    customer = pooled[0]
    response = client_as(world.rep_a).post(f"/customers/{customer.id}/claim")
    assert response.status_code == 303 and response.headers["Location"] == f"/customers/{customer.id}"
    assert customer.owner_id == world.rep_a.id and customer.owned_since == NOW
    assert customer.reclaim_at == NOW + timedelta(days=15) and customer.reclaim_rule == "reclaim_no_follow_up"
    assert claims(customer) == 1
    # Now the rep sees the contact details.
    assert "13600000000" in html_of(client_as(world.rep_a).get(f"/customers/{customer.id}"))


def test_claim_from_the_pool_page_by_htmx_replaces_the_row(client_as, world, pooled):
    response = client_as(world.rep_a).post(f"/customers/{pooled[1].id}/claim", htmx=True)
    assert response.status_code == 200
    assert 'id="pool-' in html_of(response) and "已领取" in html_of(response)
    assert "toast" in response.headers["HX-Trigger"]


def test_the_second_claimer_is_told_who_won(client_as, world, pooled):
    client_as(world.rep_a).post(f"/customers/{pooled[0].id}/claim")
    response = client_as(world.rep_b).post(f"/customers/{pooled[0].id}/claim")
    assert response.status_code == 409
    assert "已被 张三 领取" in html_of(response)
    htmx = client_as(world.rep_b).post(f"/customers/{pooled[0].id}/claim", htmx=True)
    assert htmx.status_code == 409 and "\\u5df2\\u88ab" in htmx.headers["HX-Trigger"]  # 已被…
    assert pooled[0].owner_id == world.rep_a.id and claims(pooled[0]) == 1


@pytest.mark.parametrize("role", ["support_a", "admin"])
def test_only_reps_and_managers_claim(client_as, world, pooled, role):
    assert client_as(getattr(world, role)).post(f"/customers/{pooled[0].id}/claim").status_code == 403
    assert pooled[0].owner_id is None


def test_managers_may_claim(client_as, world, pooled):
    assert client_as(world.manager_b).post(f"/customers/{pooled[0].id}/claim").status_code == 303


def test_unknown_deleted_and_owned_customers(client_as, world, pooled):
    rep = client_as(world.rep_a)
    assert rep.post("/customers/999999/claim").status_code == 404
    client_as(world.admin).post(f"/customers/{pooled[0].id}/delete")
    assert rep.post(f"/customers/{pooled[0].id}/claim").status_code == 404
    rep.post(f"/customers/{pooled[1].id}/claim")
    again = rep.post(f"/customers/{pooled[1].id}/claim")
    assert again.status_code == 409 and "你已经是该客户的负责人" in html_of(again)


def test_daily_claim_limit(client_as, world, pooled, frozen_clock):
    set_rules(world.admin, claims_per_day=2)
    rep = client_as(world.rep_a)
    assert [rep.post(f"/customers/{c.id}/claim").status_code for c in pooled[:2]] == [303, 303]
    refused = rep.post(f"/customers/{pooled[2].id}/claim")
    assert refused.status_code == 409
    assert "你今天已领取 2 个客户，每日上限为 2 个" in html_of(refused)
    # A new day in Shanghai (16:00 UTC is midnight there).
    frozen_clock(datetime(2026, 6, 10, 16, 0, tzinfo=UTC))
    assert rep.post(f"/customers/{pooled[2].id}/claim").status_code == 303


def test_active_customer_limit_counts_open_customers_only(client_as, world, pooled):
    set_rules(world.admin, max_active_per_rep=2)
    make_customer(world.rep_a, "已有客户一有限公司")
    make_customer(world.rep_a, "已赢单有限公司", stage="won")
    rep = client_as(world.rep_a)
    assert rep.post(f"/customers/{pooled[0].id}/claim").status_code == 303
    refused = rep.post(f"/customers/{pooled[1].id}/claim")
    assert refused.status_code == 409 and "你已保有 2 个跟进中客户，上限为 2 个" in html_of(refused)


def test_release_needs_a_reason_and_ends_collaboration(client_as, world, pooled):
    rep = client_as(world.rep_a)
    rep.post(f"/customers/{pooled[0].id}/claim")
    rep.post(f"/customers/{pooled[0].id}/collaborators", data={"user_id": world.rep_a2.id})
    # Refused, the page is shown again with its error (issue 15: 422, no longer a bare 400).
    assert rep.post(f"/customers/{pooled[0].id}/release", data={"reason": ""}).status_code == 422
    assert (
        client_as(world.rep_b).post(f"/customers/{pooled[0].id}/release", data={"reason": "x"}).status_code
        == 403
    )
    assert rep.post(f"/customers/{pooled[0].id}/release", data={"reason": "今年没有预算"}).status_code == 303
    customer = pooled[0]
    assert customer.owner_id is None and customer.reclaim_at is None
    row = db.session.scalars(select(OwnershipChange).order_by(OwnershipChange.id.desc())).first()
    assert (row.reason, row.from_user_id, row.note) == ("release", world.rep_a.id, "今年没有预算")
    assert db.session.scalar(select(func.count()).select_from(Collaborator)) == 0


def test_cooldown_after_release_says_until_when(client_as, world, pooled, frozen_clock):
    rep = client_as(world.rep_a)
    rep.post(f"/customers/{pooled[0].id}/claim")
    rep.post(f"/customers/{pooled[0].id}/release", data={"reason": "暂不跟进"})
    refused = rep.post(f"/customers/{pooled[0].id}/claim")
    assert refused.status_code == 409
    assert "2026年7月10日 起才能重新领取" in html_of(refused)
    # Someone else may claim it at once.
    assert client_as(world.rep_a2).post(f"/customers/{pooled[0].id}/claim").status_code == 303
    client_as(world.rep_a2).post(f"/customers/{pooled[0].id}/release", data={"reason": "转给别人"})
    frozen_clock(NOW + timedelta(days=30, minutes=1))
    assert rep.post(f"/customers/{pooled[0].id}/claim").status_code == 303


def test_parallel_claims_of_one_customer_in_threads(app, world, live_server, pooled):
    reps = [make_user(f"racer{n}@test.example", "rep", world.team_a) for n in range(8)]
    clients = [LiveClient(live_server, rep.email) for rep in reps]
    barrier = threading.Barrier(len(clients))
    customer_id = pooled[0].id

    def claim(client):
        barrier.wait()
        return client.post(f"/customers/{customer_id}/claim")

    with ThreadPoolExecutor(len(clients)) as pool:
        responses = list(pool.map(claim, clients))
    for client in clients:
        client.close()
    assert sorted(r.status_code for r in responses) == [303] + [409] * 7
    winner = next(rep for rep, r in zip(reps, responses, strict=True) if r.status_code == 303)
    assert all(f"已被 {winner.display_name} 领取" in r.text for r in responses if r.status_code == 409)
    assert claims(pooled[0]) == 1


def test_claim_storm_across_gunicorn_workers(app, world, gunicorn_server):
    """50 reps claim the same 20 pool customers at once, against 4 worker processes."""
    set_rules(world.admin, claims_per_day=3)
    customers = [make_customer(world.manager_a, f"风暴{n}号科技有限公司", pool=True) for n in range(20)]
    reps = [
        make_user(f"storm{n}@test.example", "rep", world.team_a if n % 2 else world.team_b) for n in range(50)
    ]
    clients = [LiveClient(gunicorn_server.url, rep.email) for rep in reps]
    barrier = threading.Barrier(len(clients))
    ids = [customer.id for customer in customers]

    def storm(client):
        order = random.sample(ids, 8)  # each rep goes for 8 of the 20
        barrier.wait()
        return [client.post(f"/customers/{customer_id}/claim") for customer_id in order]

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(storm, clients))
    for client in clients:
        client.close()
    responses = [response for result in results for response in result]
    assert all(response.status_code < 500 for response in responses)
    assert {response.status_code for response in responses} <= {303, 409}
    for response in responses:
        if response.status_code == 409:
            assert "已被" in response.text or "每日上限为 3 个" in response.text
    db.session.rollback()
    owners = dict(
        db.session.execute(select(Customer.id, Customer.owner_id).where(Customer.name.like("风暴%"))).all()
    )
    assert all(owner is not None for owner in owners.values())  # every customer ends with exactly one owner
    per_customer = dict(
        db.session.execute(
            select(OwnershipChange.customer_id, func.count())
            .where(OwnershipChange.reason == "claim")
            .group_by(OwnershipChange.customer_id)
        ).all()
    )
    assert per_customer == dict.fromkeys(owners, 1)  # one claim row per customer
    per_rep = db.session.execute(
        select(Customer.owner_id, func.count()).where(Customer.id.in_(owners)).group_by(Customer.owner_id)
    ).all()
    assert max(count for _owner, count in per_rep) <= 3  # no rep over the daily limit
    assert sum(1 for r in responses if r.status_code == 303) == len(owners) == 20


# ---- where a seller stands against the limits (issue 16, item 9) -------------------------


def test_a_rep_sees_claims_today_and_holdings_against_the_limits(client_as, world, pooled):
    set_rules(world.admin, claims_per_day=20, max_active_per_rep=200)
    make_customer(world.rep_a, "自有客户有限公司")
    client_as(world.rep_a).post(f"/customers/{pooled[0].id}/claim")
    html = html_of(client_as(world.rep_a).get("/pool"))
    assert "今日已领 1/20 · 保有 2/200" in html
    assert "领取后归你负责" in html


def test_the_standing_says_so_when_the_next_claim_would_be_refused(client_as, world, pooled):
    set_rules(world.admin, claims_per_day=1)
    rep = client_as(world.rep_a)
    rep.post(f"/customers/{pooled[0].id}/claim")
    assert 'class="pool-standing at-limit"' in html_of(rep.get("/pool"))
    assert rep.post(f"/customers/{pooled[1].id}/claim").status_code == 409


def test_claims_of_yesterday_do_not_count_today(client_as, world, pooled, frozen_clock):
    client_as(world.rep_a).post(f"/customers/{pooled[0].id}/claim")
    frozen_clock(NOW + timedelta(days=1))
    assert "今日已领 0/" in html_of(client_as(world.rep_a).get("/pool"))


def test_support_is_not_told_a_claim_makes_the_customer_theirs(client_as, world, pooled):
    html = html_of(client_as(world.support_a).get("/pool"))
    assert "领取后归你负责" not in html and "今日已领" not in html
    assert "由销售和经理在这里领取" in html and 'action="/customers/' not in html
    assert "每位销售最多保有" in html  # the limits, as information


def test_a_claim_by_htmx_updates_the_count_and_the_standing_out_of_band(client_as, world, pooled):
    set_rules(world.admin, claims_per_day=20, max_active_per_rep=200)
    rep = client_as(world.rep_a)
    assert "公海共 5 个客户" in html_of(rep.get("/pool"))
    response = rep.post(f"/customers/{pooled[1].id}/claim", htmx=True, data={"next": "/pool"})
    html = html_of(response)
    assert response.status_code == 200 and f'<tr id="pool-{pooled[1].id}" class="claimed-row">' in html
    assert '<div id="pool-count" class="results-summary" hx-swap-oob="true"><span>公海共 4 个客户' in html
    assert 'id="claim-standing" class="pool-standing" hx-swap-oob="true">今日已领 1/20 · 保有 1/200' in html


def test_the_count_after_a_claim_keeps_the_filters_of_the_page(client_as, world, pooled):
    response = client_as(world.rep_a).post(
        f"/customers/{pooled[3].id}/claim", htmx=True, data={"next": "/pool?q=公海3"}
    )
    assert "公海共 0 个客户" in html_of(response)


def test_the_pool_links_rules_for_those_who_may_read_them(client_as, world, pooled):
    assert 'href="/rules"' in html_of(client_as(world.manager_a).get("/pool"))
    assert 'href="/rules"' not in html_of(client_as(world.rep_a).get("/pool"))

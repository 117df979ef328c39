"""Security checks of issue 8: what walking every route and forging every form found."""

import io

import pytest
from sqlalchemy import select

from salesdesk.extensions import db
from salesdesk.ledger import importer
from salesdesk.ledger.models import Customer
from salesdesk.rules.models import Territory
from tests.ledger_helpers import make_customer

TEN_MB = "x" * (10 * 1024 * 1024)  # over MAX_FORM_MEMORY_SIZE: 413
CSV = "客户名称,手机\n杭州新客户有限公司,13511112222\n".encode()


def test_the_collisions_page_answers_200_with_the_shown_tab_marked(client_as, world):
    # The filter went to render() as `status`, which is the HTTP status: "0 open".
    manager = client_as(world.manager_a)
    for query, link in (("", '"/collisions"'), ("?status=decided", '"/collisions?status=decided"')):
        response = manager.get("/collisions" + query)
        assert response.status_code == 200
        assert f'href={link} aria-current="page"' in response.get_data(as_text=True)


def test_a_10_mb_form_is_refused_before_it_is_read(client_as, world):
    # Werkzeug applies MAX_FORM_MEMORY_SIZE to multipart fields only; an urlencoded
    # 10 MB field reached the view, which took it for "no successor".
    admin = client_as(world.admin)
    url = f"/admin/users/{world.rep_a.id}/deactivate"
    assert admin.post(url, data={"successor_id": TEN_MB}).status_code == 413
    assert admin.post(url, data={"successor_id": TEN_MB}, htmx=True).status_code == 413
    db.session.refresh(world.rep_a)
    assert world.rep_a.active
    # The largest real form, an article of 100,000 Chinese characters (0.9 MB encoded), still goes.
    manager = client_as(world.manager_a)
    response = manager.post("/kb/new", data={"title": "长文", "body": "报" * 100_000, "category_id": "0"})
    assert response.status_code == 303


@pytest.mark.parametrize("successor", ["0", "abc", "1.5", "-1", str(2**63)])
def test_a_forged_successor_is_refused_not_taken_for_the_pool(client_as, world, successor):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司")
    response = client_as(world.admin).post(
        f"/admin/users/{world.rep_a.id}/deactivate", data={"successor_id": successor}
    )
    assert response.status_code == 400
    db.session.refresh(world.rep_a)
    assert world.rep_a.active
    assert db.session.get(Customer, customer.id).owner_id == world.rep_a.id


def test_unicode_digits_in_ids_are_refused_not_a_server_error(client_as, world):
    # "²".isdigit() is true, but int("²") raises.
    pool = make_customer(world.manager_a, "宁波海港物流有限公司", pool=True)
    manager = client_as(world.manager_a)
    data = {"user_id": str(world.rep_a2.id), "reason": "区域对口", "customer_ids": ["²"]}
    assert manager.post("/customers/assign", data=data).status_code == 400
    assert db.session.get(Customer, pool.id).owner_id is None
    job = importer.start_job(world.rep_a, "客户.csv", io.BytesIO(CSV))
    response = client_as(world.rep_a).post(f"/customers/import/{job.id}/mapping", data={"map-name": "²"})
    assert response.status_code == 422


def test_a_forged_rep_in_the_territories_is_refused_and_the_old_ones_stay(client_as, world):
    admin = client_as(world.admin)
    url = f"/rules/teams/{world.team_a.id}/territories"

    def territories():
        db.session.rollback()
        return db.session.execute(select(Territory.province, Territory.city, Territory.user_id)).all()

    assert (
        admin.post(url, data={"province": "浙江", "city": "", "user_id": world.rep_a.id}).status_code == 303
    )
    for forged in ("-1", "abc", "²", "1.5"):
        response = admin.post(url, data={"province": "浙江", "city": "", "user_id": forged})
        assert response.status_code == 400, forged
        assert territories() == [("浙江", "", world.rep_a.id)]
    # A row left without a rep ("—") is dropped, as before.
    assert admin.post(url, data={"province": "浙江", "city": "", "user_id": ""}).status_code == 303
    assert territories() == []

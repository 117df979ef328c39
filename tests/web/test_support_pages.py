"""The support desk's pages as each side uses them: filing with a file, the queue,
accepting, replying, notes only the support side reads, resolving, rating, and the
refusals a forged or stale post gets."""

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from salesdesk.extensions import db
from salesdesk.support.models import Attachment, Event, Request, RequestType
from tests.fixtures.ledger import make_customer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def html(response):
    return response.get_data(as_text=True)


@pytest.fixture
def quote_type(app):
    """The migration's 报价支持 (PostgreSQL tests empty every table between tests)."""
    found = db.session.scalar(select(RequestType).where(RequestType.name == "报价支持"))
    if found is None:
        found = RequestType(name="报价支持", prompts="客户背景：\n需要报价的产品和数量：")
        db.session.add(found)
        db.session.commit()
    return found


@pytest.fixture
def customer(world):
    return make_customer(world.rep_a, "杭州明途科技有限公司")


def file_form(quote_type, customer=None, **overrides):
    form = {
        "type_id": str(quote_type.id),
        "customer_id": str(customer.id) if customer else "",
        "title": "明途科技年度框架报价",
        "details": "客户背景：老客户续约\n需要报价的产品和数量：200 套",
        "needed_by": "",
        "priority": "normal",
    }
    form.update(overrides)
    return form


def post_multipart(client, url, fields, files=()):
    """A multipart post encoded in memory: the test client would spool a big body to a
    file it never closes."""
    data = MultiDict({**fields, "csrf_token": client.csrf_token()})
    for name, content in files:
        data.add("files", FileStorage(io.BytesIO(content), filename=name))
    boundary, body = encode_multipart(data)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False)


def file_request(client, quote_type, customer=None, files=(), **overrides):
    return post_multipart(client, "/support/new", file_form(quote_type, customer, **overrides), files)


def test_the_whole_round_trip(client_as, world, quote_type, customer):
    rep = client_as(world.rep_a)
    form = rep.get(f"/support/new?customer={customer.id}")
    assert form.status_code == 200 and "杭州明途科技有限公司" in html(form)
    filed = file_request(rep, quote_type, customer, files=[("报价草稿.pdf", PDF)])
    assert filed.status_code == 303, html(filed)
    request = db.session.scalar(select(Request))
    assert (request.status, request.customer_id, request.requester_id) == ("new", customer.id, world.rep_a.id)
    attachment = db.session.scalar(select(Attachment))
    assert attachment.filename == "报价草稿.pdf" and attachment.content_type == "application/pdf"

    support = client_as(world.support_a)
    queue = html(support.get("/support"))
    assert "明途科技年度框架报价" in queue
    page = html(support.get(f"/support/{request.id}"))
    assert "杭州明途科技有限公司" in page and f"/support/{request.id}/accept" in page
    download = support.get(f"/support/{request.id}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")

    url = f"/support/{request.id}"
    assert support.post(f"{url}/accept").status_code == 303
    note = {"body": "内部：价格按去年框架", "internal": "y"}
    assert support.post(f"{url}/reply", data=note).status_code == 303
    assert support.post(f"{url}/reply", data={"body": "报价已在做，明天给你"}).status_code == 303
    rep_page = html(rep.get(url))
    assert "报价已在做" in rep_page and "价格按去年框架" not in rep_page
    assert support.post(f"{url}/resolve", data={"body": "报价单见附件"}).status_code == 303
    assert rep.post(f"{url}/confirm", data={"rating": "6", "comment": ""}).status_code == 422
    assert rep.post(f"{url}/confirm", data={"rating": "5", "comment": "很快"}).status_code == 303
    db.session.rollback()
    request = db.session.get(Request, request.id)
    assert (request.status, request.rating, request.response_met) == ("closed", 5, True)
    in_order = select(Event.kind).where(Event.request_id == request.id).order_by(Event.id)
    kinds = db.session.scalars(in_order).all()
    assert kinds == ["filed", "accepted", "note", "reply", "resolved", "confirmed"]


def test_refusals_save_nothing(client_as, world, quote_type, customer):
    rep = client_as(world.rep_a)
    other = make_customer(world.rep_b, "深圳远帆电子有限公司")
    cases = [
        file_form(quote_type, other),  # a customer the requester may not see
        file_form(quote_type, customer, type_id="999999"),
        file_form(quote_type, customer, title=""),
        file_form(quote_type, customer, needed_by="2020-01-01"),
        file_form(quote_type, customer, priority="extreme"),
    ]
    for data in cases:
        response = rep.post("/support/new", data=data)
        assert response.status_code == 422, data
    exe = file_request(rep, quote_type, customer, files=[("合同.pdf", b"MZ\x90\x00" + b"\x00" * 100)])
    assert exe.status_code == 422 and "合同.pdf" in html(exe)
    big = file_request(rep, quote_type, customer, files=[("大.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))])
    assert big.status_code == 422 or big.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(Request)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_other_teams_and_wrong_steps(client_as, world, quote_type, customer):
    rep = client_as(world.rep_a)
    file_request(rep, quote_type, customer)
    request = db.session.scalar(select(Request))
    assert client_as(world.rep_b).get(f"/support/{request.id}").status_code == 404
    assert client_as(world.rep_a2).get(f"/support/{request.id}").status_code == 404
    assert client_as(world.manager_a).get(f"/support/{request.id}").status_code == 200
    assert client_as(world.manager_b).get(f"/support/{request.id}").status_code == 404
    assert rep.post(f"/support/{request.id}/accept").status_code == 403
    assert rep.post(f"/support/{request.id}/resolve", data={"body": "x"}).status_code == 409
    assert rep.post(f"/support/{request.id}/confirm", data={"rating": "5", "comment": ""}).status_code == 409
    assert rep.get("/support/999999").status_code == 404

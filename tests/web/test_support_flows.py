"""The desk's pages around the lifecycle: the lists and their filters, sending back and
answering, assigning, notes and their files, the customer's timeline, the workbench,
the knowledge loop, deleting, and big uploads."""

from datetime import timedelta

from sqlalchemy import select

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.kb.models import Article
from salesdesk.support import files, lifecycle
from salesdesk.support.models import Attachment, Request, Status
from tests.fixtures.kb import write
from tests.fixtures.ledger import make_customer
from tests.fixtures.support import count, events, file, request_in
from tests.helpers import browser_session, post_all_at_once
from tests.web.test_support_pages import PDF, html, post_multipart


def test_the_lists_each_role_opens_and_their_filters(client_as, desk):
    urgent = file(desk.rep_a, desk.queue_a, title="紧急：投标报价明早要", priority="urgent")
    later = file(desk.rep_a2, desk.queue_a, title="普通的资料准备")
    theirs = file(desk.rep_b, desk.company, title="华南客户的报价")
    support = html(client_as(desk.support_a).get("/support"))
    assert urgent.title in support and later.title in support and theirs.title in support  # company-wide
    assert support.index(urgent.title) < support.index(later.title)  # breaches first
    rep = html(client_as(desk.rep_a).get("/support"))
    assert urgent.title in rep and later.title not in rep and theirs.title not in rep
    manager = html(client_as(desk.manager_a).get("/support"))
    assert later.title in manager and theirs.title not in manager
    assert html(client_as(desk.support_b).get("/support")).count("紧急：投标报价") == 0  # team A's queue
    filtered = html(client_as(desk.support_a).get("/support?priority=urgent"))
    assert urgent.title in filtered and later.title not in filtered
    fragment = client_as(desk.support_a).get("/support?type=" + str(desk.company.id), htmx=True)
    assert theirs.title in html(fragment) and "<html" not in html(fragment)
    for junk in ("status=bogus", "type=abc", "handler=-1", "priority=x", "scope=all", "page=99999999999"):
        assert client_as(desk.rep_a).get(f"/support?{junk}").status_code == 200


def test_sent_back_then_answered_resumes_the_clock(client_as, desk):
    request = request_in(desk, Status.IN_PROGRESS)
    support, rep = client_as(desk.support_a), client_as(desk.rep_a)
    assert support.post(f"/support/{request.id}/return", data={"body": ""}).status_code == 422
    assert support.post(f"/support/{request.id}/return", data={"body": "请补充付款记录"}).status_code == 303
    db.session.refresh(request)
    assert request.status == Status.RETURNED and request.next_due_at is None
    assert "请补充付款记录" in html(rep.get(f"/support/{request.id}"))
    answer = post_multipart(
        rep, f"/support/{request.id}/reply", {"body": "付款记录见附件"}, [("付款.pdf", PDF)]
    )
    assert answer.status_code == 303
    db.session.refresh(request)
    assert request.status == Status.IN_PROGRESS and request.next_due_at is not None
    assert count(Attachment, Attachment.request_id == request.id) == 1


def test_the_lead_assigns_and_a_note_file_stays_internal(client_as, desk):
    request = file(desk.rep_a, desk.queue_a)
    lead = client_as(desk.lead_a)
    assert (
        lead.post(f"/support/{request.id}/assign", data={"handler_id": str(desk.support_b.id)}).status_code
        == 422
    )
    assert (
        lead.post(f"/support/{request.id}/assign", data={"handler_id": str(desk.support_a2.id)}).status_code
        == 303
    )
    assert (
        client_as(desk.support_a).post(f"/support/{request.id}/assign", data={"handler_id": "1"}).status_code
        == 403
    )
    db.session.refresh(request)
    assert request.handler_id == desk.support_a2.id
    note = post_multipart(
        client_as(desk.support_a2),
        f"/support/{request.id}/reply",
        {"body": "底价参考", "internal": "y"},
        [("底价.pdf", PDF)],
    )
    assert note.status_code == 303
    attachment = db.session.scalar(select(Attachment))
    url = f"/support/{request.id}/attachments/{attachment.id}"
    assert client_as(desk.rep_a).get(url).status_code == 404
    assert "底价.pdf" not in html(client_as(desk.rep_a).get(f"/support/{request.id}"))
    assert client_as(desk.manager_a).get(url).status_code == 200
    assert client_as(desk.rep_b).get(url).status_code == 404


def test_a_requester_may_only_post_notes_as_replies(client_as, desk):
    request = request_in(desk, Status.IN_PROGRESS)
    rep = client_as(desk.rep_a)
    assert (
        rep.post(f"/support/{request.id}/reply", data={"body": "我的备注", "internal": "y"}).status_code
        == 403
    )
    assert events(request).count("note") == 0


def test_the_customer_page_offers_support_and_shows_the_steps(client_as, desk):
    customer = make_customer(desk.rep_a, "杭州明途科技有限公司")
    request = file(desk.rep_a, desk.queue_a, customer_id=customer.id, title="明途报价")
    lifecycle.accept(desk.lead_a, request.id)
    page = html(client_as(desk.rep_a).get(f"/customers/{customer.id}"))
    assert f"/support/new?customer={customer.id}" in page
    assert "支持请求 #" in page and "明途报价" in page
    assert f"/support/new?customer={customer.id}" not in html(
        client_as(desk.rep_b).get(f"/customers/{customer.id}")
    )


def test_the_workbench_shows_each_side_its_part(client_as, desk):
    file(desk.rep_a, desk.queue_a, title="工作台上的请求")
    assert "工作台上的请求" in html(client_as(desk.rep_a).get("/"))
    support_home = html(client_as(desk.support_a).get("/"))
    assert "我的队列" in support_home and "工作台上的请求" in support_home
    assert "本月团队的销售支持" in html(client_as(desk.manager_a).get("/"))
    assert "工作台上的请求" not in html(client_as(desk.rep_b).get("/"))


def test_the_knowledge_loop(client_as, desk):
    article = write(
        desk.manager_a,
        title="合同违约金条款的标准写法",
        body="违约金一般不超过合同金额的 10%。",
        publish=True,
    )
    write(desk.manager_a, title="违约金草稿", body="草稿", publish=False)
    found = html(client_as(desk.rep_a).get("/support/suggestions?title=违约金怎么谈"))
    assert article.title in found and "违约金草稿" not in found
    assert html(client_as(desk.rep_a).get("/support/suggestions?title=")).strip() == ""
    request = request_in(desk, Status.RESOLVED)
    support = client_as(desk.support_a)
    assert client_as(desk.rep_a).post(f"/support/{request.id}/kb-draft").status_code == 403
    made = support.post(f"/support/{request.id}/kb-draft")
    assert made.status_code == 303
    db.session.refresh(request)
    draft = db.session.get(Article, request.kb_article_id)
    assert draft.status == "draft" and f"/support/{request.id}" in draft.body and "条款已审核" in draft.body
    assert support.post(f"/support/{request.id}/kb-draft").status_code == 409


def test_deleting_removes_only_unshared_files(app, client_as, desk):
    first = file(desk.rep_a, desk.queue_a)
    second = file(desk.rep_a, desk.queue_a)
    rep = client_as(desk.rep_a)
    post_multipart(rep, f"/support/{first.id}/reply", {"body": "合同"}, [("合同.pdf", PDF)])
    post_multipart(rep, f"/support/{second.id}/reply", {"body": "同一份合同"}, [("合同.pdf", PDF)])
    only = post_multipart(
        rep, f"/support/{first.id}/reply", {"body": "另一份"}, [("另一份.pdf", PDF + b"%2")]
    )
    assert only.status_code == 303
    shared, alone = db.session.scalars(
        select(Attachment.sha256).where(Attachment.request_id == first.id)
    ).all()
    assert rep.post(f"/support/{first.id}/delete").status_code == 403
    first_id = first.id
    assert client_as(desk.admin).post(f"/support/{first_id}/delete").status_code == 303
    db.session.rollback()
    assert db.session.get(Request, first_id) is None
    assert files.path_of(shared).is_file() and not files.path_of(alone).is_file()


def test_several_big_files_in_one_post_are_taken(client_as, desk):
    request = request_in(desk, Status.IN_PROGRESS)
    eight_mb = [(f"图纸{n}.pdf", b"%PDF-" + bytes([n]) * (8 * 1024 * 1024)) for n in range(3)]
    response = post_multipart(
        client_as(desk.rep_a), f"/support/{request.id}/reply", {"body": "三份图纸"}, eight_mb
    )
    assert response.status_code == 303
    assert count(Attachment, Attachment.request_id == request.id) == 3


def test_reopen_within_seven_days_only(client_as, desk, frozen_clock):
    request = request_in(desk, Status.CLOSED)
    rep = client_as(desk.rep_a)
    frozen_clock(clock.now() + timedelta(days=8))
    assert rep.post(f"/support/{request.id}/reopen", data={"body": ""}).status_code == 409
    frozen_clock(clock.now() - timedelta(days=2))
    assert rep.post(f"/support/{request.id}/reopen", data={"body": "还差一页"}).status_code == 303
    db.session.refresh(request)
    assert request.status == Status.IN_PROGRESS


def test_two_support_users_accepting_at_once_leave_one_winner(app, desk, live_server):
    """Real concurrent requests over HTTP: the queue's lead and a support user of the
    queue accept the same new request in the same instant."""
    request = file(desk.rep_a, desk.queue_a)
    path = f"/support/{request.id}/accept"
    takers = [desk.support_a, desk.lead_a, desk.support_a2]
    statuses = post_all_at_once(live_server, [(path, {}, browser_session(app, user)) for user in takers])
    assert sorted(statuses) == [303, 409, 409], statuses
    db.session.rollback()
    assert events(db.session.get(Request, request.id)).count("accepted") == 1

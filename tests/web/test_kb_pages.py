"""What users and attackers see over HTTP: pages, fragments, status codes, rows."""

import re

import pytest
from flask import render_template
from sqlalchemy import func, select

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.kb import paths, playbooks
from salesdesk.kb.models import Article, Proposal, ReadReceipt, Vote
from salesdesk.ledger.models import Stage
from tests.fixtures.kb import edit, write


def html_of(response):
    return response.get_data(as_text=True)


def form(article, **overrides):
    return {
        "title": article.title,
        "body": article.body,
        "category_id": "0",
        "tags": "",
        "note": "",
        "base_version": str(article.version),
        "proposal_id": "",
        **overrides,
    }


# ---- permissions -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_a", "rep_b"])
def test_reps_cannot_edit_publish_or_see_history(client_as, world, article, draft, role):
    rep = client_as(getattr(world, role))
    assert rep.get(f"/kb/{draft.id}").status_code == 404
    assert draft.title not in html_of(rep.get("/kb/"))
    for url in (f"/kb/{article.id}/edit", f"/kb/{article.id}/history", f"/kb/{article.id}/diff", "/kb/new"):
        assert rep.get(url).status_code == 403, url
    assert rep.post(f"/kb/{article.id}/edit", data=form(article, body="篡改")).status_code == 403
    assert rep.post(f"/kb/{draft.id}/publish").status_code == 403
    assert rep.post(f"/kb/{article.id}/unpublish").status_code == 403
    assert rep.post("/kb/new", data={"title": "x", "body": "y"}).status_code == 403
    assert rep.post("/kb/categories", data={"name": "x", "parent_id": "0"}).status_code == 403
    db.session.expire_all()
    assert article.body.startswith("报价单") and draft.status == "draft"


@pytest.mark.parametrize("role", ["admin", "manager_a", "manager_b", "support_a"])
def test_editors_create_edit_publish(client_as, world, role):
    editor = client_as(getattr(world, role))
    new = {"title": "拜访前准备", "body": "带好资料。", "category_id": "0", "tags": "", "note": ""}
    response = editor.post("/kb/new", data=new)
    assert response.status_code == 303
    article = db.session.scalar(select(Article).where(Article.title == "拜访前准备"))
    assert article.status == "draft"
    assert editor.post(f"/kb/{article.id}/publish").status_code == 303
    db.session.expire_all()
    assert article.status == "published"
    response = editor.post(
        f"/kb/{article.id}/edit", data=form(article, body="带好资料和报价单。", note="补充")
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert article.version == 2


# ---- articles, rendering ---------------------------------------------------------------


def test_article_page_sanitises_and_counts_views(client_as, world):
    article = write(
        world.admin,
        "危险 <script>alert(1)</script>",
        '正文 <img src=x onerror=alert(1)> [点我](javascript:alert(1))\n\n<p style="color:red">x</p>',
    )
    page = html_of(client_as(world.rep_a).get(f"/kb/{article.id}"))
    assert (
        "<script>alert" not in page
        and "<img" not in page
        and " onerror=" not in page.replace("&lt;img src=x onerror=", "")
    )
    assert 'href="javascript' not in page and not re.search(r"<[a-z][^>]*\sstyle=", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    db.session.expire_all()
    assert article.view_count == 1


def test_finding_8_article_shows_no_image_from_another_host(client_as, world):
    article = write(
        world.admin,
        "图片",
        "![追踪](https://tracker.example/pixel.png) ![协议相对](//tracker.example/p.png) "
        "![内嵌](data:image/png;base64,iVBORw0KGgo=) "
        "![本站](/static/favicon.svg)",
    )
    response = client_as(world.rep_a).get(f"/kb/{article.id}")
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html_of(response))
    assert sources == ["/static/favicon.svg"]
    assert "追踪" in html_of(response)  # an image from elsewhere shows as its alt text
    img_src = re.search(r"img-src ([^;]*)", response.headers["Content-Security-Policy"]).group(1)
    assert "https:" not in img_src and "http:" not in img_src


def test_no_inline_script_or_style_on_kb_pages(client_as, world, article):
    client = client_as(world.admin)
    for url in ("/kb/", f"/kb/{article.id}", f"/kb/{article.id}/edit", "/kb/search?q=报价", "/kb/paths"):
        page = html_of(client.get(url))
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert " style=" not in page and "hx-on" not in page, url


def test_nav_leads_to_the_knowledge_base(client_as, world):
    page = html_of(client_as(world.rep_a).get("/kb/"))
    assert 'href="/kb/" aria-current="page"' in page
    assert client_as(world.rep_a).get("/kb").status_code in (200, 308)


def test_the_list_pages_through_the_one_pager(client_as, world):
    for number in range(45):
        write(world.admin, f"文章{number:02d}", "正文。")
    rep = client_as(world.rep_a)
    first = rep.get("/kb/")
    assert first.status_code == 200
    page = html_of(first)
    assert "第 1 / 3 页" in page and 'href="/kb/?page=2"' in page
    last = html_of(rep.get("/kb/?page=3&sort=title", htmx=True))
    assert "<html" not in last and "文章44" in last and 'rel="next"' not in last
    assert "文章00" in html_of(rep.get("/kb/?sort=title&status=bogus&category=99999999999"))


# ---- stale save ------------------------------------------------------------------------


def test_second_editor_sees_the_difference_not_an_overwrite(client_as, world, article):
    first, second = client_as(world.manager_a), client_as(world.support_a)
    base = form(article)
    assert (
        first.post(f"/kb/{article.id}/edit", data={**base, "body": "报价单有效期 15 天。"}).status_code == 303
    )
    response = second.post(f"/kb/{article.id}/edit", data={**base, "body": "报价单有效期 30 天。"})
    assert response.status_code == 409
    page = html_of(response)
    assert "王经理" in page and "kb-diff" in page
    assert "<del>15</del>" in page and "<ins>30</ins>" in page
    assert re.search(r'<input[^>]*name="base_version"[^>]*value="2"', page)  # saving again is now deliberate
    db.session.expire_all()
    assert article.body == "报价单有效期 15 天。" and article.version == 2
    # The second editor read the difference and saves again on purpose.
    assert (
        second.post(
            f"/kb/{article.id}/edit", data={**base, "base_version": "2", "body": "报价单有效期 30 天。"}
        ).status_code
        == 303
    )


# ---- history ---------------------------------------------------------------------------


def test_history_diff_and_restore(client_as, world, article):
    edit(article, world.manager_a, body=article.body.replace("经理", "总监"), note="审批人改了")
    client = client_as(world.support_a)
    history = html_of(client.get(f"/kb/{article.id}/history"))
    assert "审批人改了" in history and "#2" in history
    page = html_of(client.get(f"/kb/{article.id}/diff?from=1&to=2"))
    assert "<del>经理</del>" in page and "<ins>总监</ins>" in page
    assert client.get(f"/kb/{article.id}/diff?from=1&to=9").status_code == 404
    assert (
        client.get(f"/kb/{article.id}/diff?from=x&to=y").status_code == 200
    )  # falls back to the latest change
    response = client.post(f"/kb/{article.id}/revisions/1/restore", data={"base_version": "2", "note": ""})
    assert response.status_code == 303
    db.session.expire_all()
    assert article.version == 3 and "经理" in article.body
    stale = client.post(f"/kb/{article.id}/revisions/1/restore", data={"base_version": "2", "note": ""})
    assert stale.status_code == 303  # told with a flash, nothing written
    db.session.expire_all()
    assert article.version == 3


def test_a_refused_restore_keeps_the_note_typed(client_as, world, article):
    edit(article, world.manager_a, body="全新的内容。")
    client = client_as(world.manager_a)
    note = "恢复原文" * 60
    refused = client.post(f"/kb/{article.id}/revisions/1/restore", data={"base_version": "2", "note": note})
    assert refused.status_code == 422 and note in html_of(refused)
    forged = client.post(f"/kb/{article.id}/revisions/1/restore", data={"base_version": "x", "note": ""})
    assert forged.status_code == 400
    db.session.expire_all()
    assert article.version == 2


# ---- proposals -------------------------------------------------------------------------


def test_rep_proposes_and_editor_accepts(client_as, world, article):
    rep = client_as(world.rep_a)
    page = html_of(rep.get(f"/kb/{article.id}"))
    assert "提交修改建议" in page and f"/kb/{article.id}/edit" not in page
    response = rep.post(
        f"/kb/{article.id}/propose",
        data={"title": article.title, "body": "报价单有效期 15 天。", "note": "有效期", "base_version": "1"},
    )
    assert response.status_code == 303
    proposal = db.session.scalar(select(Proposal))
    assert client_as(world.rep_a2).get(f"/kb/proposals/{proposal.id}").status_code == 404
    assert rep.post(f"/kb/proposals/{proposal.id}/accept").status_code == 403
    editor = client_as(world.manager_a)
    assert "<ins> 15 天</ins>" in html_of(editor.get(f"/kb/proposals/{proposal.id}"))
    assert editor.post(f"/kb/proposals/{proposal.id}/accept").status_code == 303
    db.session.expire_all()
    assert article.body == "报价单有效期 15 天。" and proposal.status == "accepted"


def test_proposal_with_forged_base_version_is_a_clear_400(client_as, world, article):
    rep = client_as(world.rep_a)
    for base in ("0", "abc", str(10**12), ""):
        response = rep.post(
            f"/kb/{article.id}/propose", data={"title": "t", "body": "b", "note": "", "base_version": base}
        )
        assert response.status_code == 400, base
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_a_refused_decline_keeps_the_reason_typed(client_as, world, article):
    rep = client_as(world.rep_a)
    data = {"title": article.title, "body": "新正文。", "note": "", "base_version": "1"}
    assert rep.post(f"/kb/{article.id}/propose", data=data).status_code == 303
    proposal = db.session.scalar(select(Proposal))
    reason = "与公司政策不符" * 50
    refused = client_as(world.manager_a).post(f"/kb/proposals/{proposal.id}/decline", data={"reason": reason})
    assert refused.status_code == 422 and reason in html_of(refused)
    db.session.expire_all()
    assert proposal.is_pending


# ---- feedback and reading --------------------------------------------------------------


def test_vote_as_fragment_and_as_full_page(client_as, world, article):
    rep = client_as(world.rep_a)
    response = rep.post(f"/kb/{article.id}/vote", data={"helpful": "yes", "comment": ""}, htmx=True)
    assert response.status_code == 200
    fragment = html_of(response)
    assert "<html" not in fragment and 'id="feedback"' in fragment and "感谢你的反馈" in fragment
    response = rep.post(f"/kb/{article.id}/vote", data={"helpful": "no", "comment": "缺少示例"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#feedback")
    votes = db.session.scalars(select(Vote)).all()
    assert [(v.user_id, v.helpful, v.comment) for v in votes] == [(world.rep_a.id, False, "缺少示例")]
    editor_page = html_of(client_as(world.manager_a).get(f"/kb/{article.id}"))
    assert "有用 0 · 没用 1" in editor_page and "缺少示例" in editor_page
    assert "有用 0" not in html_of(rep.get(f"/kb/{article.id}"))


@pytest.mark.parametrize("data", [{"helpful": "maybe"}, {}, {"helpful": "yes", "comment": "长" * 501}])
def test_forged_votes_are_refused(client_as, world, article, data):
    # Refused with the article shown again (422), not a bare error page (issue 15).
    assert client_as(world.rep_a).post(f"/kb/{article.id}/vote", data=data).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_a_refused_vote_keeps_the_comment_typed(client_as, world, article):
    rep = client_as(world.rep_a)
    comment = "有效期写错了" + "。" * 500
    page = rep.post(f"/kb/{article.id}/vote", data={"helpful": "no", "comment": comment})
    assert page.status_code == 422 and "<html" in html_of(page) and comment in html_of(page)
    fragment = rep.post(f"/kb/{article.id}/vote", data={"helpful": "no", "comment": comment}, htmx=True)
    assert fragment.status_code == 422 and "<html" not in html_of(fragment)
    assert 'id="feedback"' in html_of(fragment) and comment in html_of(fragment)
    unchosen = rep.post(f"/kb/{article.id}/vote", data={"comment": "缺少示例"})
    assert unchosen.status_code == 422 and "请选择“有用”或“没用”。" in html_of(unchosen)
    assert "缺少示例" in html_of(unchosen)


def test_mark_read_records_the_revision(client_as, world, article):
    path = paths.create_path(name="新人第一周", actor=world.manager_a)
    paths.add_to_path(path, article.id, actor=world.manager_a)
    from datetime import timedelta

    paths.assign_path(
        path,
        user_id=world.rep_a.id,
        due_on=clock.today(world.rep_a.timezone) + timedelta(days=7),
        actor=world.manager_a,
    )
    rep = client_as(world.rep_a)
    page = html_of(rep.get(f"/kb/{article.id}"))
    assert "已读并理解" in page and "<progress" in page
    response = rep.post(f"/kb/{article.id}/read", data={"version": "1"}, htmx=True)
    assert response.status_code == 200 and 'id="read-status"' in html_of(response)
    assert 'value="1"' in html_of(response) and "已读 1 / 1 篇" in html_of(response)
    assert db.session.scalar(select(ReadReceipt.version)) == 1
    assert rep.post(f"/kb/{article.id}/read", data={"version": "99"}).status_code == 400
    path_page = html_of(rep.get(f"/kb/paths/{path.id}"))
    assert "已读 1 / 1 篇" in path_page


# ---- search ----------------------------------------------------------------------------


def test_search_page_fragment_and_live_results(client_as, world, article, draft):
    rep = client_as(world.rep_a)
    page = html_of(rep.get("/kb/search?q=报价"))
    assert "<html" in page and "<mark>报价</mark>单填写规范" in page
    fragment = html_of(rep.get("/kb/search?q=报价", htmx=True))
    assert "<html" not in fragment and "<mark>报价</mark>" in fragment
    live = html_of(rep.get("/kb/search?q=报价&live=1", htmx=True))
    assert "kb-live-panel" in live and "查看全部 1 条结果" in live
    assert "（草稿）" not in html_of(rep.get("/kb/search?q=定价"))
    assert "<mark>定价</mark>（草稿）" in html_of(client_as(world.support_a).get("/kb/search?q=定价"))


def test_search_results_page_through_the_one_pager(client_as, world):
    for number in range(25):
        write(world.admin, f"回款话术{number}", "正文。")
    rep = client_as(world.rep_a)
    page = html_of(rep.get("/kb/search?q=回款"))
    assert "第 1 / 2 页" in page and "page=2" in page and 'class="pagination"' in page
    second = html_of(rep.get("/kb/search?q=回款&page=2"))
    assert "第 2 / 2 页" in second and 'rel="prev"' in second and 'rel="next"' not in second


@pytest.mark.parametrize(
    "query", ["q=" + "报" * 5000, "q=%00%01", "q=a&page=-5", "q=a&page=abc", 'q="NEAR(a b)"*']
)
def test_odd_searches_do_not_fail(client_as, world, article, query):
    # A NUL byte is refused for the whole app (400); everything else searches.
    expected = 400 if "%00" in query else 200
    assert client_as(world.rep_a).get(f"/kb/search?{query}").status_code == expected


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/kb/999999",
        "/kb/999999/edit",
        "/kb/1/revisions/99",
        "/kb/proposals/12345",
        "/kb/paths/777",
        "/kb/categories/888",
        "/kb/99999999999999999999",
        "/kb/1/revisions/99999999999999999999",
    ],
)
def test_unknown_ids_are_404(client_as, world, article, url):
    assert client_as(world.admin).get(url).status_code == 404


def test_forged_edit_fields_are_refused(client_as, world, article):
    editor = client_as(world.admin)
    for overrides in (
        {"category_id": "999"},
        {"category_id": "abc"},
        {"stages": "bogus"},
        {"title": ""},
        {"title": "长" * 201},
        {"tags": " ".join(f"t{n}" for n in range(11))},
    ):
        response = editor.post(f"/kb/{article.id}/edit", data=form(article, body="改", **overrides))
        assert response.status_code == 422, overrides
    assert editor.post(f"/kb/{article.id}/edit", data=form(article, base_version="x")).status_code == 400
    db.session.expire_all()
    assert article.version == 1


def test_assign_refuses_other_teams_and_bad_dates(client_as, world, article):
    path = paths.create_path(name="新人第一周", actor=world.manager_a)
    manager = client_as(world.manager_a)
    page = html_of(manager.get(f"/kb/paths/{path.id}"))
    assert "王五" not in page  # another team's rep is not offered
    response = manager.post(
        f"/kb/paths/{path.id}/assign", data={"user_id": str(world.rep_b.id), "due_on": "2099-01-01"}
    )
    assert response.status_code == 422
    response = manager.post(
        f"/kb/paths/{path.id}/assign", data={"user_id": str(world.rep_a.id), "due_on": "not-a-date"}
    )
    assert response.status_code == 422
    assert client_as(world.rep_a).post(f"/kb/paths/{path.id}/assign", data={}).status_code == 403


# ---- playbooks fragment ----------------------------------------------------------------


def test_playbooks_fragment_for_the_customer_page(app, world):
    write(world.admin, "方案报价怎么做", "先确认预算再报价。", stages=["quoted"])
    with app.test_request_context("/"):
        html = render_template(
            "kb/_playbooks.html",
            stage=Stage.QUOTED,
            playbooks=playbooks.playbooks_for_stage(Stage.QUOTED, world.rep_a),
        )
    assert "方案报价怎么做" in html and "/kb/1" in html
    with app.test_request_context("/"):
        empty = render_template("kb/_playbooks.html", stage=Stage.LEAD, playbooks=[])
    assert "这个阶段还没有打法" in empty


def test_playbooks_page(client_as, world):
    write(world.admin, "谈判让步原则", "每次让步都要换条件。", stages=["negotiating"])
    page = html_of(client_as(world.rep_a).get("/kb/playbooks?stage=negotiating"))
    assert "谈判让步原则" in page

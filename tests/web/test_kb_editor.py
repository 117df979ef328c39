"""The article editor over HTTP: the live preview, images pasted or chosen, and 下一篇
after 已读并理解."""

import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.kb import categories, images, paths
from salesdesk.kb.models import Article, Image
from tests.fixtures.kb import png, write


def html_of(response):
    return response.get_data(as_text=True)


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WEBP_HEAD = b"RIFF\x24\x00\x00\x00WEBPVP8 "


def upload(client, data, name="截图.png", json=True):
    """Encoded in memory: the test client spools big bodies to a file it never closes."""
    headers = {"Accept": "application/json" if json else "text/html", "X-CSRFToken": client.csrf_token()}
    boundary, body = encode_multipart({"image": FileStorage(io.BytesIO(data), name)})
    return client.post(
        "/kb/images",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
        csrf=False,
    )


def image_count():
    return db.session.scalar(select(func.count()).select_from(Image))


def stored_files(app):
    with app.app_context():
        return sorted(path.name for path in images.folder().iterdir())


# ---- preview -------------------------------------------------------------------------


def test_preview_renders_markdown_through_the_article_sanitiser(client_as, world):
    body = (
        "# 报价\n\n**折扣**说明 <script>alert(1)</script>\n\n"
        "![追踪](https://tracker.example/p.png) ![本站](/kb/images/7) [链接](javascript:alert(1))"
    )
    response = client_as(world.manager_a).post("/kb/preview", data={"body": body}, htmx=True)
    page = html_of(response)
    assert response.status_code == 200
    assert "<h2>报价</h2>" in page and "<strong>折扣</strong>" in page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "tracker.example" not in page and "追踪" in page  # the alt text stays
    assert re.findall(r'<img[^>]*\ssrc="([^"]*)"', page) == ["/kb/images/7"]
    assert 'href="javascript' not in page
    assert "<html" not in page  # a fragment for htmx


def test_preview_is_open_to_readers_who_propose_edits(client_as, world):
    response = client_as(world.rep_a).post("/kb/preview", data={"body": "*好*"}, htmx=True)
    assert response.status_code == 200 and "<em>好</em>" in html_of(response)


def test_preview_without_javascript_returns_the_form_unsaved(client_as, world, article):
    client = client_as(world.manager_a)
    data = {
        "title": article.title,
        "body": "改过的 **正文** <script>x</script>",
        "category_id": "0",
        "tags": "",
        "note": "",
        "base_version": str(article.version),
        "proposal_id": "",
        "preview": "1",
    }
    response = client.post(f"/kb/{article.id}/edit", data=data)
    page = html_of(response)
    assert response.status_code == 200
    assert "改过的 <strong>正文</strong>" in page  # the preview pane
    assert "改过的 **正文** &lt;script&gt;x&lt;/script&gt;" in page  # the text, as typed
    assert "<script>x" not in page
    db.session.expire_all()
    assert db.session.get(Article, article.id).version == 1  # nothing saved

    new = client.post("/kb/new", data={**data, "title": "新文章"})
    assert new.status_code == 200 and "改过的 <strong>正文</strong>" in html_of(new)
    assert db.session.scalar(select(Article).where(Article.title == "新文章")) is None


def test_editor_page_has_the_preview_and_image_controls(client_as, world, article):
    page = html_of(client_as(world.manager_a).get(f"/kb/{article.id}/edit"))
    assert 'id="kb-preview"' in page and 'data-hx-post="/kb/preview"' in page
    assert 'name="preview"' in page  # the button that works without JavaScript
    assert 'form="kb-image-upload"' in page and 'enctype="multipart/form-data"' in page
    assert "/static/js/kb-editor.js" in page
    propose = html_of(client_as(world.rep_a).get(f"/kb/{article.id}/propose"))
    assert 'id="kb-preview"' in propose and "/static/js/kb-editor.js" in propose


# ---- images --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(png(3, 2), "image/png"), (GIF, "image/gif"), (JPEG_HEAD + b"\x00" * 64, "image/jpeg"),
     (WEBP_HEAD + b"\x00" * 32, "image/webp")],
)  # fmt: skip
def test_an_uploaded_image_is_stored_and_served_to_logged_in_users(app, client_as, world, data, content_type):
    response = upload(client_as(world.support_a), data)
    assert response.status_code == 201
    image = db.session.scalar(select(Image).order_by(Image.id.desc()))
    assert response.json == {"url": f"/kb/images/{image.id}", "markdown": f"![](/kb/images/{image.id})"}
    assert image.content_type == content_type and image.uploaded_by_id == world.support_a.id
    assert image.stored_as in stored_files(app)

    served = client_as(world.rep_b).get(f"/kb/images/{image.id}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == content_type
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"].startswith("private")
    assert served.data == data


def test_images_are_not_served_to_anonymous_visitors(app, client_as, world):
    upload(client_as(world.manager_a), png())
    image = db.session.scalar(select(Image))
    anonymous = app.test_client()
    response = anonymous.get(f"/kb/images/{image.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anonymous.get(f"/kb/images/{image.id}", htmx=True).status_code == 401
    assert anonymous.post("/kb/images", data={"image": (io.BytesIO(png()), "a.png")}).status_code == 302
    assert image_count() == 1


@pytest.mark.parametrize(
    ("data", "name", "status", "message"),
    [
        (png() + b"\x00" * (5 * 1024 * 1024), "大图.png", 413, "图片超过 5 MB"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.png", 422, "不是"),
        (b"<html><script>alert(1)</script></html>", "a.gif", 422, "不是"),
        (b"GIF8", "a.gif", 422, "不是"),
        (b"", "empty.png", 422, "请选择"),
    ],
    ids=["too large", "svg", "html", "truncated gif", "empty"],
)
def test_bad_uploads_are_refused_with_a_message_and_nothing_is_kept(
    app, client_as, world, data, name, status, message
):
    client = client_as(world.manager_a)
    before = stored_files(app)
    response = upload(client, data, name)
    assert response.status_code == status
    assert message in response.json["error"]
    page = upload(client, data, name, json=False)  # without JavaScript: an error page
    assert page.status_code == status and message in html_of(page)
    assert image_count() == 0 and stored_files(app) == before


def test_a_preview_after_the_session_ended_is_refused_not_a_server_error(app):
    response = app.test_client().post(
        "/kb/preview", data={"body": "x", "csrf_token": "stale"}, htmx=True, csrf=False
    )
    toast = json.loads(response.headers["HX-Trigger"])["toast"][0]
    assert response.status_code == 400 and "会话已过期" in toast["message"]


def test_upload_without_a_file_is_refused(client_as, world):
    response = client_as(world.rep_a).post("/kb/images", data={}, headers={"Accept": "application/json"})
    assert response.status_code == 422 and response.json["error"]


def test_upload_without_javascript_shows_the_line_to_copy(client_as, world):
    response = upload(client_as(world.manager_a), png(), json=False)
    image = db.session.scalar(select(Image))
    assert response.status_code == 201
    assert f'value="![](/kb/images/{image.id})"' in html_of(response)


def test_an_unknown_image_or_a_lost_file_is_404(app, client_as, world):
    client = client_as(world.rep_a)
    assert client.get("/kb/images/999999").status_code == 404
    upload(client, png())
    image = db.session.scalar(select(Image))
    with app.app_context():
        (images.folder() / image.stored_as).unlink()
    assert client.get(f"/kb/images/{image.id}").status_code == 404


def test_an_article_shows_its_uploaded_image_but_no_image_from_elsewhere(client_as, world):
    client = client_as(world.manager_a)
    url = upload(client, png()).json["url"]
    article = write(
        world.manager_a, "带图的文章", f"![截图]({url})\n\n![外链](https://cdn.example/x.png) ![本站](/kb/1)"
    )
    page = html_of(client_as(world.rep_a).get(f"/kb/{article.id}"))
    assert re.findall(r'<img[^>]*\ssrc="([^"]*)"', page) == [url]
    assert "cdn.example" not in page and "外链" in page


# ---- 下一篇 --------------------------------------------------------------------------


def test_read_and_understood_offers_the_next_article_of_the_path(client_as, world):
    first = write(world.manager_a, "第一课", "一")
    second = write(world.manager_a, "第二课", "二")
    path = paths.create_path(name="入门", actor=world.manager_a)
    for article in (first, second):
        paths.add_to_path(path, article.id, actor=world.manager_a)
    due = clock.today(world.rep_a.timezone) + timedelta(days=7)
    paths.assign_path(path, user_id=world.rep_a.id, due_on=due, actor=world.manager_a)
    client = client_as(world.rep_a)

    before = html_of(client.get(f"/kb/{first.id}"))
    assert "下一篇" not in before
    fragment = html_of(client.post(f"/kb/{first.id}/read", data={"version": "1"}, htmx=True))
    assert f'href="/kb/{second.id}"' in fragment and "下一篇：第二课" in fragment
    # Without JavaScript: back on the article, with the same link.
    client.post(f"/kb/{second.id}/read", data={"version": "1"})
    page = html_of(client.get(f"/kb/{second.id}"))
    assert "下一篇" not in page  # the path is all read and the articles have no category


def test_next_article_falls_back_to_the_category(world):
    category = categories.create_category(name="合同", actor=world.manager_a)
    first = write(world.manager_a, "1 合同要点", "一", category_id=category.id)
    write(world.manager_a, "2 草稿", "草稿", category_id=category.id, publish=False)
    second = write(world.manager_a, "3 合同模板", "二", category_id=category.id)
    assert paths.next_article(first, []) == second
    assert paths.next_article(second, []) is None

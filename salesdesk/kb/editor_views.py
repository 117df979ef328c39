"""The article editor's helpers: the live preview and images. Thin, like views.py."""

from flask import jsonify, request, send_file
from flask_login import current_user

from ..auth import allowed
from ..errors import DomainError
from ..web import render
from . import access, bp, images, markdown


@bp.route("/preview", methods=["POST"])
@allowed(access.may_write_text)
def preview():
    """The text as readers will see it, through the same sanitiser as the article page
    (htmx asks while the editor types; without JavaScript the editor's own page shows it)."""
    body = markdown.render(request.form.get("body", ""))
    return render("kb/preview.html", "kb/_preview.html", preview=body)


def _wants_json():
    """The editor's script asks for JSON; a plain form post gets a page."""
    accepted = request.accept_mimetypes
    return accepted.best_match(["application/json", "text/html"]) == "application/json"


@bp.route("/images", methods=["POST"])
@allowed(access.may_upload_images)
def upload_image():
    try:
        image = images.store_image(request.files.get("image"), user=current_user)
    except DomainError as error:
        if not _wants_json():
            raise
        return jsonify(error=error.message), error.status
    markdown_line = images.markdown_for(image)
    if _wants_json():
        return jsonify(url=images.url_of(image), markdown=markdown_line), 201
    # Without JavaScript the upload opened its own tab (the editor keeps its text):
    # the line to copy into the text, not a redirect away from it.
    return render("kb/image_uploaded.html", image=image, markdown_line=markdown_line, status=201)


@bp.route("/images/<int:image_id>")
@allowed(access.may_see_images)
def image(image_id):
    image, path = images.get_image(image_id)
    response = send_file(path, mimetype=image.content_type, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    # An image never changes under its number: the reader's browser (not a shared
    # cache: it is only for people who log in) keeps it.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response

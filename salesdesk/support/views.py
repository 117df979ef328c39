"""The desk's pages: the request lists, filing, a request with its timeline, and the
steps taken on it (each a POST that redirects back, or answers htmx with the page's
main part)."""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from .. import paging
from ..config import MEGABYTE
from ..errors import DomainError
from ..web import LARGE_UPLOADS, add_form_error, form_status, render, see_other
from . import access, attachments, bp, files, knowledge, lifecycle, pages, queue, requests
from .forms import AssignForm, ConfirmForm, ReplyForm, RequestForm, message_form
from .models import PRIORITY_LABELS, STATUS_LABELS

# Ten files of 10 MB and the form around them.
LARGE_UPLOADS["support.new"] = LARGE_UPLOADS["support.reply"] = (
    attachments.MAX_FILES_PER_REQUEST * files.MAX_FILE_MB + 1
) * MEGABYTE


@bp.before_request
@login_required
def _logged_in():
    """Every page of the desk is for logged-in users."""


@bp.get("/support")
def index():
    filters = queue.Filters.from_args(request.args, current_user)
    page = queue.page_of(current_user, filters, paging.page_number())
    types, handlers = queue.filter_choices(current_user)
    return render(
        "support/index.html",
        "support/_results.html",
        filters=filters,
        page=page,
        count_limit=queue.COUNT_LIMIT,
        scopes=queue.scopes_for(current_user),
        types=types,
        handlers=handlers,
        may_file=access.may_file(current_user),
        may_see_metrics=access.may_see_metrics(current_user),
        due=pages.due_labels(page.items),
        status_labels=STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
    )


def _uploads(field):
    """The files a form sent, read and checked (support.files); [] when none."""
    # A forged post may send text under the files' name: that is no file.
    return [
        files.read_upload(upload, upload.filename)
        for upload in field.data or ()
        if isinstance(upload, FileStorage) and upload.filename
    ]


@bp.route("/support/new", methods=["GET", "POST"])
def new():
    if not access.may_file(current_user):
        abort(403)
    form = RequestForm()
    pages.offer_choices(form, current_user, request.args.get("customer", type=int))
    if request.method == "GET":
        pages.prefill(form, request.args.get("type", type=int))
    elif form.validate_on_submit():
        try:
            draft = requests.Draft(
                type_id=form.type_id.data,
                customer_id=form.customer_id.data,
                title=form.title.data,
                details=form.details.data,
                needed_by=form.needed_by.data,
                priority=form.priority.data,
                uploads=_uploads(form.files),
            )
            filed = requests.file_request(current_user, draft)
        except DomainError as error:
            if error.status >= 500:
                raise
            add_form_error(form, error)
        else:
            flash(_("Request filed. The support team has been told."), "success")
            return see_other(url_for("support.show", request_id=filed.id))
    return render(
        "support/new.html",
        form=form,
        templates=pages.type_templates(),
        status=form_status(form) if request.method == "POST" else 200,
    )


@bp.get("/support/suggestions")
def suggestions():
    """Published articles that may already answer the title being typed (htmx)."""
    return render(
        "support/_suggestions.html",
        articles=knowledge.suggestions(current_user, request.args.get("title", "")),
    )


@bp.get("/support/<int:request_id>")
def show(request_id):
    support_request = requests.get_request_for(current_user, request_id)
    return render("support/show.html", **pages.request_context(current_user, support_request))


def _step_page(support_request, form_name, form, status=422):
    """The request page again with a step's form errors."""
    context = pages.request_context(current_user, support_request, **{form_name: form})
    return render("support/show.html", status=status, **context)


def _after_step(support_request, message):
    flash(message, "success")
    return see_other(url_for("support.show", request_id=support_request.id))


def _message_step(request_id, step, name, done_message):
    """A step that only says something (return, resolve, reopen, cancel)."""
    support_request = requests.get_request_for(current_user, request_id)
    lifecycle.refuse(current_user, support_request, name)
    form = message_form(name)
    if form.validate_on_submit():
        try:
            step(current_user, support_request.id, form.body.data)
        except DomainError as error:
            if error.status != 400:
                raise
            add_form_error(form, error)
        else:
            return _after_step(support_request, done_message)
    return _step_page(support_request, f"{name}_form", form)


@bp.post("/support/<int:request_id>/accept")
def accept(request_id):
    accepted = lifecycle.accept(current_user, request_id)
    return _after_step(accepted, _("Accepted: the request is yours, and the requester knows."))


@bp.post("/support/<int:request_id>/assign")
def assign(request_id):
    support_request = requests.get_request_for(current_user, request_id)
    lifecycle.refuse(current_user, support_request, "assign")
    form = AssignForm()
    pages.offer_handlers(form, support_request)
    if form.validate_on_submit():
        try:
            lifecycle.assign(current_user, support_request.id, form.handler_id.data)
        except DomainError as error:
            if error.status != 400:
                raise
            add_form_error(form, error)
        else:
            return _after_step(support_request, _("Handler changed; they have been told."))
    return _step_page(support_request, "assign_form", form)


@bp.post("/support/<int:request_id>/reply")
def reply(request_id):
    support_request = requests.get_request_for(current_user, request_id)
    lifecycle.refuse(current_user, support_request, "note" if request.form.get("internal") else "reply")
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            lifecycle.reply(
                current_user,
                support_request.id,
                form.body.data,
                internal=form.internal.data,
                uploads=_uploads(form.files),
            )
        except DomainError as error:
            if error.status not in (400, 413, 422):
                raise
            add_form_error(form, error)
        else:
            return _after_step(support_request, _("Note saved.") if form.internal.data else _("Reply sent."))
    return _step_page(support_request, "reply_form", form)


@bp.post("/support/<int:request_id>/return")
def send_back(request_id):
    return _message_step(
        request_id, lifecycle.send_back, "return", _("Sent back: the requester has been asked for more.")
    )


@bp.post("/support/<int:request_id>/resolve")
def resolve(request_id):
    return _message_step(
        request_id, lifecycle.resolve, "resolve", _("Resolved: the requester is asked to confirm.")
    )


@bp.post("/support/<int:request_id>/reopen")
def reopen(request_id):
    return _message_step(request_id, lifecycle.reopen, "reopen", _("Reopened: the handler has been told."))


@bp.post("/support/<int:request_id>/cancel")
def cancel(request_id):
    return _message_step(request_id, lifecycle.cancel, "cancel", _("Request cancelled."))


@bp.post("/support/<int:request_id>/confirm")
def confirm(request_id):
    support_request = requests.get_request_for(current_user, request_id)
    lifecycle.refuse(current_user, support_request, "confirm")
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            lifecycle.confirm(current_user, support_request.id, int(form.rating.data), form.comment.data)
        except DomainError as error:
            if error.status != 400:
                raise
            add_form_error(form, error)
        else:
            return _after_step(support_request, _("Thank you: the request is done and your rating saved."))
    return _step_page(support_request, "confirm_form", form)


@bp.post("/support/<int:request_id>/kb-draft")
def kb_draft(request_id):
    support_request = requests.get_request_for(current_user, request_id)
    article = knowledge.draft_from_resolution(current_user, support_request)
    flash(_("A draft article was made from this request. Edit it and publish it."), "success")
    return see_other(url_for("kb.edit", article_id=article.id))


@bp.post("/support/<int:request_id>/delete")
def delete(request_id):
    support_request = requests.get_request_for(current_user, request_id)
    attachments.delete_request(current_user, support_request)
    flash(_("Request deleted."), "success")
    return see_other(url_for("support.index"))


@bp.get("/support/<int:request_id>/attachments/<int:attachment_id>")
def attachment(request_id, attachment_id):
    support_request = requests.get_request_for(current_user, request_id)
    found, path = attachments.get_attachment_for(current_user, support_request, attachment_id)
    return files.send(path, found.filename, found.content_type)

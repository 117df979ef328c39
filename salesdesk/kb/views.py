"""Knowledge-base pages. Thin: parse, call a service, render or redirect."""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import allowed
from ..errors import DomainError
from ..extensions import db
from ..ledger.models import STAGE_LABELS, Stage
from ..web import add_form_error, form_status, is_htmx, render, safe_next_url, see_other
from . import access, bp, diff, markdown, services
from .forms import (
    ArticleForm,
    AssignForm,
    CategoryForm,
    DeclineForm,
    EditArticleForm,
    PathForm,
    PathItemForm,
    ProposalForm,
    ReadForm,
    RestoreForm,
    VoteForm,
)
from .models import STATUS_LABELS, Article, Assignment, Category, Status

MAX_ID = 2**31 - 1
PAGE_SIZE = 20
STALE_MONTH_CHOICES = (3, 6, 12, 24)


@bp.url_value_preprocessor
def refuse_huge_ids(_endpoint, values):
    """An id beyond any column's range is simply not there (and must not reach SQLite,
    which cannot even bind it)."""
    if any(isinstance(value, int) and not 0 < value <= MAX_ID for value in (values or {}).values()):
        abort(404)


def _int_arg(name, default=None, lowest=1, highest=MAX_ID):
    value = request.args.get(name, type=int)
    return value if value is not None and lowest <= value <= highest else default


@bp.context_processor
def kb_context():
    return {
        "kb_may_edit_articles": access.may_edit_articles(current_user),
        "kb_may_see_drafts": access.may_see_drafts(current_user),
        "kb_may_decide_proposals": access.may_decide_proposals(current_user),
        "kb_may_see_insights": access.may_see_insights(current_user),
        "kb_may_manage_categories": access.may_manage_categories(current_user),
        "kb_may_manage_paths": access.may_manage_paths(current_user),
        "kb_pending_proposals": services.pending_proposal_count(current_user),
        "stage_labels": STAGE_LABELS,
    }


# ---- articles -------------------------------------------------------------------------


@bp.route("/")
def index():
    filters = {
        "category": _int_arg("category"),
        "tag": request.args.get("tag", "").strip()[:30],
        "status": request.args.get("status", ""),
        "sort": request.args.get("sort", "recent"),
    }
    query = services.list_articles(
        current_user,
        category_id=filters["category"],
        tag=filters["tag"] or None,
        status=filters["status"],
        sort=filters["sort"],
    )
    page = db.paginate(
        query, page=_int_arg("page", 1, highest=10_000), per_page=PAGE_SIZE, max_per_page=PAGE_SIZE
    )
    category = db.session.get(Category, filters["category"]) if filters["category"] else None
    return render(
        "kb/index.html",
        "kb/_article_rows.html",
        page=page,
        filters=filters,
        category=category,
        tree=services.category_tree(),
        counts=services.article_counts(current_user),
        tags=services.popular_tags(current_user),
        statuses=STATUS_LABELS,
        my_paths=services.my_assignments(current_user),
    )


def _fill_meta(form, article):
    form.tags.data = " ".join(article.tag_names)
    form.stages.data = [stage.value for stage in article.stage_values]
    form.category_id.data = article.category_id or 0


@bp.route("/new", methods=["GET", "POST"])
@allowed(access.may_edit_articles)
def new():
    form = ArticleForm(tree=services.category_tree())
    if form.validate_on_submit():
        try:
            article = services.create_article(
                author=current_user,
                title=form.title.data,
                body=form.body.data,
                category_id=form.category_id.data,
                tags=form.tags.data,
                stages=form.stages.data,
                note=form.note.data,
                publish="publish" in request.form,
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Article saved."), "success")
            return see_other(url_for("kb.article", article_id=article.id))
    return render("kb/form.html", form=form, article=None, stale=None, status=form_status(form))


@bp.route("/<int:article_id>")
def article(article_id):
    article = services.get_article_for(current_user, article_id)
    if not is_htmx():
        services.record_view(article)
    return render(
        "kb/article.html",
        article=article,
        body=markdown.render(article.body),
        **_feedback_context(article),
        **_reading_context(article),
    )


def _feedback_context(article):
    mine = services.vote_of(article, current_user)
    form = VoteForm(formdata=None)
    if mine:
        form.comment.data = mine.comment
    context = {"vote_form": form, "my_vote": mine}
    if access.may_see_insights(current_user):
        context["counts"] = services.vote_counts(article)
        context["comments"] = services.recent_comments(article)
    return context


def _reading_context(article):
    paths = services.user_paths_with(current_user, article)
    receipt = services.receipt_of(current_user, article)
    state = services.reading_states(current_user, [article])[article.id]
    form = ReadForm(formdata=None, version=article.version)
    return {
        "reading_paths": [
            services.progress(path, current_user, services.assignment_of(path, current_user))
            for path in paths
        ],
        "receipt": receipt,
        "read_state": state,
        "read_form": form,
    }


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
@allowed(access.may_edit_articles)
def edit(article_id):
    article = services.get_article_for(current_user, article_id, "edit")
    form = EditArticleForm(obj=article, tree=services.category_tree())
    proposal = None
    if request.method == "GET":
        _fill_meta(form, article)
        form.base_version.data = article.version
        form.note.data = ""
        if _int_arg("proposal"):
            proposal = services.get_proposal_for(current_user, _int_arg("proposal"))
            if proposal.article_id != article.id or not proposal.is_pending:
                abort(404)
            form.title.data, form.body.data = proposal.title, proposal.body
            form.proposal_id.data = proposal.id
            form.note.data = proposal.note
    stale = None
    if form.validate_on_submit():
        if form.proposal_id.data:
            proposal = services.get_proposal_for(current_user, form.proposal_id.data)
            if proposal.article_id != article.id:
                abort(404)
        try:
            services.save_article(
                article,
                editor=current_user,
                base_version=form.base_version.data,
                title=form.title.data,
                body=form.body.data,
                category_id=form.category_id.data,
                tags=form.tags.data,
                stages=form.stages.data,
                note=form.note.data,
                major=form.major.data,
                proposal=proposal,
            )
        except services.StaleEdit as error:
            stale = _stale_context(error, form)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Saved as revision %(number)s.", number=article.version), "success")
            return see_other(url_for("kb.article", article_id=article.id))
    elif request.method == "POST" and form.base_version.errors:
        raise DomainError(_("The form is out of date. Reload the page and try again."))
    status = 409 if stale else form_status(form)
    return render("kb/form.html", form=form, article=article, stale=stale, proposal=proposal, status=status)


def _stale_context(error, form):
    """What the second editor sees: the message, and the saved text against theirs.
    Their text stays in the form; saving again is now a deliberate choice."""
    current = error.current
    # IntegerField renders what was posted (raw_data), so both must change.
    form.base_version.data = current.number
    form.base_version.raw_data = [str(current.number)]
    return {
        "message": error.message,
        "current": current,
        "title_changed": current.title != form.title.data,
        "lines": diff.diff(current.body, (form.body.data or "").replace("\r\n", "\n")),
    }


@bp.route("/<int:article_id>/publish", methods=["POST"])
@allowed(access.may_edit_articles)
def publish(article_id):
    article = services.get_article_for(current_user, article_id, "publish")
    services.set_published(article, actor=current_user, published=True)
    flash(_("Published: everyone can read it now."), "success")
    return see_other(url_for("kb.article", article_id=article.id))


@bp.route("/<int:article_id>/unpublish", methods=["POST"])
@allowed(access.may_edit_articles)
def unpublish(article_id):
    article = services.get_article_for(current_user, article_id, "publish")
    services.set_published(article, actor=current_user, published=False)
    flash(_("Unpublished: only editors see it now."), "success")
    return see_other(url_for("kb.article", article_id=article.id))


# ---- history --------------------------------------------------------------------------


@bp.route("/<int:article_id>/history")
@allowed(access.may_edit_articles)
def history(article_id):
    article = services.get_article_for(current_user, article_id, "history")
    return render("kb/history.html", article=article, revisions=services.revisions(article))


@bp.route("/<int:article_id>/diff")
@allowed(access.may_edit_articles)
def compare(article_id):
    article = services.get_article_for(current_user, article_id, "history")
    new_number = _int_arg("to") or article.version
    old_number = _int_arg("from") or max(1, new_number - 1)
    if old_number > new_number:
        old_number, new_number = new_number, old_number
    old, new = services.get_revision(article, old_number), services.get_revision(article, new_number)
    return render(
        "kb/diff.html",
        article=article,
        old=old,
        new=new,
        lines=diff.diff(old.body, new.body),
        title_lines=diff.diff(old.title, new.title, context=0),
        revisions=services.revisions(article),
    )


@bp.route("/<int:article_id>/revisions/<int:number>")
@allowed(access.may_edit_articles)
def revision(article_id, number):
    article = services.get_article_for(current_user, article_id, "history")
    old = services.get_revision(article, number)
    form = RestoreForm(formdata=None, base_version=article.version)
    return render(
        "kb/revision.html", article=article, revision=old, body=markdown.render(old.body), form=form
    )


@bp.route("/<int:article_id>/revisions/<int:number>/restore", methods=["POST"])
@allowed(access.may_edit_articles)
def restore(article_id, number):
    article = services.get_article_for(current_user, article_id, "edit")
    form = RestoreForm()
    if not form.validate_on_submit():
        raise DomainError(_("The form is out of date. Reload the page and try again."))
    try:
        services.restore_revision(
            article,
            number,
            actor=current_user,
            base_version=form.base_version.data,
            note=form.note.data,
            major=form.major.data,
        )
    except services.StaleEdit as error:
        flash(error.message, "error")
        return see_other(url_for("kb.history", article_id=article.id))
    flash(_("Revision %(old)s restored as revision %(new)s.", old=number, new=article.version), "success")
    return see_other(url_for("kb.article", article_id=article.id))


# ---- proposals ------------------------------------------------------------------------


@bp.route("/<int:article_id>/propose", methods=["GET", "POST"])
def propose(article_id):
    article = services.get_article_for(current_user, article_id, "propose")
    if access.may_edit_articles(current_user):
        return see_other(url_for("kb.edit", article_id=article.id))
    form = ProposalForm(obj=article)
    if request.method == "GET":
        form.base_version.data = article.version
    if form.validate_on_submit():
        try:
            proposal = services.propose_edit(
                article,
                proposer=current_user,
                base_version=form.base_version.data,
                title=form.title.data,
                body=form.body.data,
                note=form.note.data,
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Thank you! An editor will review your edit."), "success")
            return see_other(url_for("kb.proposal", proposal_id=proposal.id))
    elif request.method == "POST" and form.base_version.errors:
        raise DomainError(_("The form is out of date. Reload the page and try again."))
    return render("kb/propose.html", form=form, article=article, status=form_status(form))


@bp.route("/proposals")
def proposals():
    status = request.args.get("status", "pending")
    chosen = status if status in ("pending", "accepted", "declined") else None
    return render("kb/proposals.html", proposals=services.proposals_for(current_user, chosen), shown=status)


@bp.route("/proposals/<int:proposal_id>")
def proposal(proposal_id):
    proposal = services.get_proposal_for(current_user, proposal_id)
    article = proposal.article
    base = services.get_revision(article, proposal.base_version)
    return render(
        "kb/proposal.html",
        proposal=proposal,
        article=article,
        base=base,
        lines=diff.diff(base.body, proposal.body),
        title_lines=diff.diff(base.title, proposal.title, context=0),
        outdated=proposal.base_version != article.version,
        decline_form=DeclineForm(formdata=None),
    )


@bp.route("/proposals/<int:proposal_id>/accept", methods=["POST"])
@allowed(access.may_decide_proposals)
def accept_proposal(proposal_id):
    proposal = services.get_proposal_for(current_user, proposal_id)
    try:
        services.accept_proposal(proposal, editor=current_user)
    except services.StaleEdit:
        flash(
            _("The article changed after this edit was proposed. Merge it in the editor, then save."),
            "warning",
        )
        return see_other(url_for("kb.edit", article_id=proposal.article_id, proposal=proposal.id))
    flash(_("Edit accepted as revision %(number)s.", number=proposal.revision_number), "success")
    return see_other(url_for("kb.article", article_id=proposal.article_id))


@bp.route("/proposals/<int:proposal_id>/decline", methods=["POST"])
@allowed(access.may_decide_proposals)
def decline_proposal(proposal_id):
    proposal = services.get_proposal_for(current_user, proposal_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        raise DomainError(_("The reason is too long (at most 300 characters)."))
    services.decline_proposal(proposal, editor=current_user, reason=form.reason.data)
    flash(_("Edit declined."), "success")
    return see_other(url_for("kb.proposals"))


# ---- feedback and reading -------------------------------------------------------------


@bp.route("/<int:article_id>/vote", methods=["POST"])
def vote(article_id):
    article = services.get_article_for(current_user, article_id, "vote")
    form = VoteForm()
    if not form.validate_on_submit():
        raise DomainError(_("Choose “helpful” or “not helpful”; a comment has at most 500 characters."))
    services.vote(article, user=current_user, helpful=form.helpful.data == "yes", comment=form.comment.data)
    if is_htmx():
        return render("kb/_feedback.html", article=article, thanked=True, **_feedback_context(article))
    flash(_("Thank you for your feedback."), "success")
    return see_other(url_for("kb.article", article_id=article.id) + "#feedback")


@bp.route("/<int:article_id>/read", methods=["POST"])
def mark_read(article_id):
    article = services.get_article_for(current_user, article_id, "acknowledge")
    form = ReadForm()
    if not form.validate_on_submit():
        raise DomainError(_("The form is out of date. Reload the page and try again."))
    services.acknowledge(article, user=current_user, version=form.version.data)
    if is_htmx():
        return render("kb/_read.html", article=article, **_reading_context(article))
    flash(_("Marked as read and understood."), "success")
    back = safe_next_url(request.form.get("next"), url_for("kb.article", article_id=article.id))
    return see_other(back)


# ---- search ---------------------------------------------------------------------------


@bp.route("/search")
def search():
    raw = request.args.get("q", "")
    page = _int_arg("page", 1, highest=1000)
    live = request.args.get("live") == "1" and is_htmx()
    per_page = services.LIVE_RESULTS if live else services.SEARCH_PAGE_SIZE
    results = services.search_articles(current_user, raw, page=page, per_page=per_page)
    if live:
        return render("kb/_live_results.html", results=results, q=raw)
    return render("kb/search.html", "kb/_results.html", results=results, q=raw)


# ---- editors' overview ----------------------------------------------------------------


@bp.route("/insights")
@allowed(access.may_see_insights)
def insights():
    months = request.args.get("months", services.DEFAULT_STALE_MONTHS, type=int)
    if months not in STALE_MONTH_CHOICES:
        months = services.DEFAULT_STALE_MONTHS
    return render(
        "kb/insights.html",
        rated=services.helpfulness_report(),
        stale=services.stale_articles(months),
        months=months,
        month_choices=STALE_MONTH_CHOICES,
    )


@bp.route("/categories", methods=["GET", "POST"])
@allowed(access.may_manage_categories)
def categories():
    tree = services.category_tree()
    form = CategoryForm(tree=tree)
    if form.validate_on_submit():
        try:
            services.create_category(name=form.name.data, parent_id=form.parent_id.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Category created."), "success")
            return see_other(url_for("kb.categories"))
    return render(
        "kb/categories.html",
        form=form,
        tree=tree,
        counts=services.article_counts(current_user),
        status=form_status(form),
    )


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@allowed(access.may_manage_categories)
def edit_category(category_id):
    category = db.get_or_404(Category, category_id)
    form = CategoryForm(obj=category, tree=services.category_tree(), exclude=category.id)
    if request.method == "GET":
        form.parent_id.data = category.parent_id or 0
    if form.validate_on_submit():
        try:
            services.update_category(
                category, name=form.name.data, parent_id=form.parent_id.data, actor=current_user
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Category saved."), "success")
            return see_other(url_for("kb.categories"))
    return render("kb/category_form.html", form=form, category=category, status=form_status(form))


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@allowed(access.may_manage_categories)
def delete_category(category_id):
    category = db.get_or_404(Category, category_id)
    services.delete_category(category, actor=current_user)
    flash(_("Category deleted."), "success")
    return see_other(url_for("kb.categories"))


# ---- onboarding paths -----------------------------------------------------------------


@bp.route("/paths")
def paths():
    return render(
        "kb/paths.html",
        mine=services.my_assignments(current_user),
        paths=services.all_paths(),
        team=services.team_progress(current_user),
        may_see_team_progress=access.may_see_team_progress(current_user),
    )


@bp.route("/paths/new", methods=["GET", "POST"])
@allowed(access.may_manage_paths)
def new_path():
    form = PathForm()
    if form.validate_on_submit():
        try:
            path = services.create_path(
                name=form.name.data, description=form.description.data, actor=current_user
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Reading path created. Now add articles to it."), "success")
            return see_other(url_for("kb.path", path_id=path.id))
    return render("kb/path_form.html", form=form, path=None, status=form_status(form))


@bp.route("/paths/<int:path_id>/edit", methods=["GET", "POST"])
@allowed(access.may_manage_paths)
def edit_path(path_id):
    path = services.get_path(path_id)
    form = PathForm(obj=path)
    if form.validate_on_submit():
        try:
            services.update_path(
                path, name=form.name.data, description=form.description.data, actor=current_user
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Reading path saved."), "success")
            return see_other(url_for("kb.path", path_id=path.id))
    return render("kb/path_form.html", form=form, path=path, status=form_status(form))


def _path_page(path, item_form=None, assign_form=None, status=200):
    if item_form is None and access.may_manage_paths(current_user):
        item_form = _item_form(path, formdata=None)
    users = services.assignable_users(current_user)
    if assign_form is None and users:
        assign_form = AssignForm(formdata=None, users=users)
    assignment = services.assignment_of(path, current_user)
    mine = services.progress(path, current_user, assignment)
    return render(
        "kb/path.html",
        path=path,
        mine=mine,
        states={article.id: state for article, state in mine.items},
        assignment=assignment,
        items=path.items,
        item_form=item_form,
        assign_form=assign_form,
        team=services.team_progress(current_user, path),
        status=status,
    )


def _item_form(path, **kwargs):
    form = PathItemForm(**kwargs)
    taken = {item.article_id for item in path.items}
    articles = db.session.scalars(
        db.select(Article).where(Article.status == Status.PUBLISHED).order_by(Article.title)
    ).all()
    form.article_id.choices = [(a.id, a.title) for a in articles if a.id not in taken]
    return form


@bp.route("/paths/<int:path_id>")
def path(path_id):
    return _path_page(services.get_path(path_id))


@bp.route("/paths/<int:path_id>/items", methods=["POST"])
@allowed(access.may_manage_paths)
def add_path_item(path_id):
    path = services.get_path(path_id)
    form = _item_form(path)
    if form.validate_on_submit():
        try:
            services.add_to_path(path, form.article_id.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            return see_other(url_for("kb.path", path_id=path.id))
    return _path_page(path, item_form=form, status=422)


@bp.route("/paths/<int:path_id>/items/<int:article_id>/<any(up, down):direction>", methods=["POST"])
@allowed(access.may_manage_paths)
def move_path_item(path_id, article_id, direction):
    path = services.get_path(path_id)
    services.move_in_path(path, article_id, offset=-1 if direction == "up" else 1, actor=current_user)
    return see_other(url_for("kb.path", path_id=path.id))


@bp.route("/paths/<int:path_id>/items/<int:article_id>/remove", methods=["POST"])
@allowed(access.may_manage_paths)
def remove_path_item(path_id, article_id):
    path = services.get_path(path_id)
    services.remove_from_path(path, article_id, actor=current_user)
    return see_other(url_for("kb.path", path_id=path.id))


@bp.route("/paths/<int:path_id>/assign", methods=["POST"])
def assign_path(path_id):
    path = services.get_path(path_id)
    users = services.assignable_users(current_user)
    if not users:
        abort(403)
    form = AssignForm(users=users)
    if form.validate_on_submit():
        try:
            services.assign_path(path, user_id=form.user_id.data, due_on=form.due_on.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Assigned. The reader has been notified."), "success")
            return see_other(url_for("kb.path", path_id=path.id))
    return _path_page(path, assign_form=form, status=422)


@bp.route("/assignments/<int:assignment_id>/remove", methods=["POST"])
def unassign(assignment_id):
    assignment = db.get_or_404(Assignment, assignment_id)
    path_id = assignment.path_id
    services.unassign_path(assignment, actor=current_user)
    flash(_("Assignment removed."), "success")
    return see_other(url_for("kb.path", path_id=path_id))


# ---- stage playbooks ------------------------------------------------------------------


@bp.route("/playbooks")
def playbooks():
    chosen = request.args.get("stage", "")
    stages = list(Stage)
    sections = [
        (stage, services.playbooks_for_stage(stage, current_user))
        for stage in stages
        if not chosen or chosen == stage.value
    ]
    return render("kb/playbooks.html", sections=sections, stages=stages, chosen=chosen)

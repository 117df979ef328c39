"""Knowledge-base pages. Thin: parse, call a service, render or redirect."""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import allowed
from ..database import is_id
from ..errors import DomainError
from ..extensions import db
from ..ledger.models import STAGE_LABELS, Stage
from ..paging import page_number
from ..web import add_form_error, form_status, is_htmx, render, safe_next_url, see_other
from . import (
    access,
    articles,
    bp,
    categories,
    diff,
    feedback,
    listing,
    markdown,
    paths,
    proposals,
    reading,
    revisions,
)
from .forms import (
    ArticleForm,
    CategoryForm,
    DeclineForm,
    EditArticleForm,
    ProposalForm,
    ReadForm,
    RestoreForm,
    VoteForm,
)
from .images import MAX_IMAGE_MB
from .models import STATUS_LABELS, Category
from .playbooks import playbooks_for_stage
from .revisions import StaleEdit
from .search import LIVE_RESULTS, PAGE_SIZE, search_articles

STALE_MONTH_CHOICES = (3, 6, 12, 24)


def _id_arg(name):
    """An id or revision number from the query string; None for anything else."""
    value = request.args.get(name, type=int)
    return value if is_id(value) else None


@bp.context_processor
def kb_context():
    if not current_user.is_authenticated:
        return {}  # an error page for someone logged out (a stale form's CSRF error)
    return {
        "kb_may_edit_articles": access.may_edit_articles(current_user),
        "kb_may_see_drafts": access.may_see_drafts(current_user),
        "kb_may_decide_proposals": access.may_decide_proposals(current_user),
        "kb_may_see_insights": access.may_see_insights(current_user),
        "kb_may_manage_categories": access.may_manage_categories(current_user),
        "kb_may_manage_paths": access.may_manage_paths(current_user),
        "kb_pending_proposals": proposals.pending_proposal_count(current_user),
        "stage_labels": STAGE_LABELS,
        "kb_max_image_mb": MAX_IMAGE_MB,
    }


# ---- articles -------------------------------------------------------------------------


@bp.route("/")
def index():
    filters = listing.Filters.from_args(request.args)
    return render(
        "kb/index.html",
        "kb/_article_rows.html",
        page=listing.articles_page(current_user, filters, page_number()),
        filters=filters,
        category=db.session.get(Category, filters.category) if filters.category else None,
        tree=categories.category_tree(),
        counts=listing.article_counts(current_user),
        tags=listing.popular_tags(current_user),
        statuses=STATUS_LABELS,
        my_paths=paths.my_assignments(current_user),
    )


def _fill_meta(form, article):
    form.tags.data = " ".join(article.tag_names)
    form.stages.data = [stage.value for stage in article.stage_values]
    form.category_id.data = article.category_id or 0


@bp.route("/new", methods=["GET", "POST"])
@allowed(access.may_edit_articles)
def new():
    form = ArticleForm(tree=categories.category_tree())
    if _previewing():
        return _form_page(form, None)
    if form.validate_on_submit():
        try:
            article = articles.create_article(
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
    return _form_page(form, None, status=form_status(form))


def _previewing():
    """The editor's 预览 button without JavaScript: the form comes back as typed, not
    saved, with the text shown as readers will see it."""
    return request.method == "POST" and "preview" in request.form


def _form_page(form, article, status=200, **context):
    return render(
        "kb/form.html",
        form=form,
        article=article,
        preview=markdown.render(form.body.data),
        status=status,
        **{"stale": None, "proposal": None, **context},
    )


def _merged_proposal(form, article):
    """The proposal an editor's save accepts (a hidden field of the editor)."""
    if not form.proposal_id.data:
        return None
    proposal = proposals.get_proposal_for(current_user, form.proposal_id.data)
    if proposal.article_id != article.id:
        abort(404)
    return proposal


@bp.route("/<int:article_id>")
def article(article_id):
    article = articles.get_article_for(current_user, article_id)
    if not is_htmx():
        articles.record_view(article)
    return _article_page(article)


def _article_page(article, fragment=None, status=200, vote_form=None):
    """The article with its feedback and reading panels; a refused vote shows its form again."""
    return render(
        "kb/article.html",
        fragment,
        status=status,
        article=article,
        body=markdown.render(article.body),
        **_feedback_context(article, vote_form),
        **_reading_context(article),
    )


def _feedback_context(article, form=None):
    mine = feedback.vote_of(article, current_user)
    if form is None:
        form = VoteForm(formdata=None)
        if mine:
            form.comment.data = mine.comment
    context = {"vote_form": form, "my_vote": mine}
    if access.may_see_insights(current_user):
        context["counts"] = feedback.vote_counts(article)
        context["comments"] = feedback.recent_comments(article)
    return context


def _reading_context(article):
    rows = [
        paths.progress(path, current_user, paths.assignment_of(path, current_user))
        for path in paths.user_paths_with(current_user, article)
    ]
    read_state = reading.reading_states(current_user, [article])[article.id]
    return {
        "reading_paths": rows,
        "receipt": reading.receipt_of(current_user, article),
        "read_state": read_state,
        "read_form": ReadForm(formdata=None, version=article.version),
        "next_article": paths.next_article(article, rows) if rows and read_state == reading.READ else None,
    }


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
@allowed(access.may_edit_articles)
def edit(article_id):
    article = articles.get_article_for(current_user, article_id, "edit")
    form = EditArticleForm(obj=article, tree=categories.category_tree())
    proposal = None
    if request.method == "GET":
        _fill_meta(form, article)
        form.base_version.data = article.version
        form.note.data = ""
        if _id_arg("proposal"):
            proposal = proposals.get_proposal_for(current_user, _id_arg("proposal"))
            if proposal.article_id != article.id or not proposal.is_pending:
                abort(404)
            form.title.data, form.body.data = proposal.title, proposal.body
            form.proposal_id.data = proposal.id
            form.note.data = proposal.note
    if _previewing():
        return _form_page(form, article, proposal=_merged_proposal(form, article))
    stale = None
    if form.validate_on_submit():
        proposal = _merged_proposal(form, article)
        try:
            articles.save_article(
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
        except StaleEdit as error:
            stale = _stale_context(error, form)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Saved as revision %(number)s.", number=article.version), "success")
            return see_other(url_for("kb.article", article_id=article.id))
    elif request.method == "POST" and form.base_version.errors:
        raise DomainError(_("The form is out of date. Reload the page and try again."))
    status = 409 if stale else form_status(form)
    return _form_page(form, article, status, stale=stale, proposal=proposal)


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
    article = articles.get_article_for(current_user, article_id, "publish")
    articles.set_published(article, actor=current_user, published=True)
    flash(_("Published: everyone can read it now."), "success")
    return see_other(url_for("kb.article", article_id=article.id))


@bp.route("/<int:article_id>/unpublish", methods=["POST"])
@allowed(access.may_edit_articles)
def unpublish(article_id):
    article = articles.get_article_for(current_user, article_id, "publish")
    articles.set_published(article, actor=current_user, published=False)
    flash(_("Unpublished: only editors see it now."), "success")
    return see_other(url_for("kb.article", article_id=article.id))


# ---- history --------------------------------------------------------------------------


@bp.route("/<int:article_id>/history")
@allowed(access.may_edit_articles)
def history(article_id):
    article = articles.get_article_for(current_user, article_id, "history")
    return render("kb/history.html", article=article, revisions=revisions.revisions(article))


@bp.route("/<int:article_id>/diff")
@allowed(access.may_edit_articles)
def compare(article_id):
    article = articles.get_article_for(current_user, article_id, "history")
    new_number = _id_arg("to") or article.version
    old_number = _id_arg("from") or max(1, new_number - 1)
    if old_number > new_number:
        old_number, new_number = new_number, old_number
    old, new = revisions.get_revision(article, old_number), revisions.get_revision(article, new_number)
    return render(
        "kb/diff.html",
        article=article,
        old=old,
        new=new,
        lines=diff.diff(old.body, new.body),
        title_lines=diff.diff(old.title, new.title, context=0),
        revisions=revisions.revisions(article),
    )


@bp.route("/<int:article_id>/revisions/<int:number>")
@allowed(access.may_edit_articles)
def revision(article_id, number):
    article = articles.get_article_for(current_user, article_id, "history")
    return _revision_page(article, number, RestoreForm(formdata=None, base_version=article.version))


def _revision_page(article, number, form, status=200):
    old = revisions.get_revision(article, number)
    return render(
        "kb/revision.html",
        article=article,
        revision=old,
        body=markdown.render(old.body),
        form=form,
        status=status,
    )


@bp.route("/<int:article_id>/revisions/<int:number>/restore", methods=["POST"])
@allowed(access.may_edit_articles)
def restore(article_id, number):
    article = articles.get_article_for(current_user, article_id, "edit")
    form = RestoreForm()
    if form.validate_on_submit():
        try:
            revisions.restore_revision(
                article,
                number,
                actor=current_user,
                base_version=form.base_version.data,
                note=form.note.data,
                major=form.major.data,
            )
        except StaleEdit as error:
            flash(error.message, "error")
            return see_other(url_for("kb.history", article_id=article.id))
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(
                _("Revision %(old)s restored as revision %(new)s.", old=number, new=article.version),
                "success",
            )
            return see_other(url_for("kb.article", article_id=article.id))
    elif form.base_version.errors:  # a forged or mangled hidden field: nothing typed to keep
        raise DomainError(_("The form is out of date. Reload the page and try again."))
    return _revision_page(article, number, form, status=422)


# ---- proposals ------------------------------------------------------------------------


@bp.route("/<int:article_id>/propose", methods=["GET", "POST"])
def propose(article_id):
    article = articles.get_article_for(current_user, article_id, "propose")
    if access.may_edit_articles(current_user):
        return see_other(url_for("kb.edit", article_id=article.id))
    form = ProposalForm(obj=article)
    if request.method == "GET":
        form.base_version.data = article.version
    preview = markdown.render(form.body.data)
    if _previewing():
        return render("kb/propose.html", form=form, article=article, preview=preview)
    if form.validate_on_submit():
        try:
            proposal = proposals.propose_edit(
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
    return render("kb/propose.html", form=form, article=article, preview=preview, status=form_status(form))


@bp.route("/proposals", endpoint="proposals")
def proposal_list():
    status = request.args.get("status", "pending")
    chosen = status if status in ("pending", "accepted", "declined") else None
    return render("kb/proposals.html", proposals=proposals.proposals_for(current_user, chosen), shown=status)


@bp.route("/proposals/<int:proposal_id>")
def proposal(proposal_id):
    return _proposal_page(proposals.get_proposal_for(current_user, proposal_id), DeclineForm(formdata=None))


def _proposal_page(proposal, decline_form, status=200):
    article = proposal.article
    base = revisions.get_revision(article, proposal.base_version)
    return render(
        "kb/proposal.html",
        proposal=proposal,
        article=article,
        base=base,
        lines=diff.diff(base.body, proposal.body),
        title_lines=diff.diff(base.title, proposal.title, context=0),
        outdated=proposal.base_version != article.version,
        decline_form=decline_form,
        status=status,
    )


@bp.route("/proposals/<int:proposal_id>/accept", methods=["POST"])
@allowed(access.may_decide_proposals)
def accept_proposal(proposal_id):
    proposal = proposals.get_proposal_for(current_user, proposal_id)
    try:
        proposals.accept_proposal(proposal, editor=current_user)
    except StaleEdit:
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
    proposal = proposals.get_proposal_for(current_user, proposal_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _proposal_page(proposal, form, status=422)
    proposals.decline_proposal(proposal, editor=current_user, reason=form.reason.data)
    flash(_("Edit declined."), "success")
    return see_other(url_for("kb.proposals"))


# ---- feedback and reading -------------------------------------------------------------


@bp.route("/<int:article_id>/vote", methods=["POST"])
def vote(article_id):
    article = articles.get_article_for(current_user, article_id, "vote")
    form = VoteForm()
    if not form.validate_on_submit():
        return _article_page(article, "kb/_feedback.html", status=422, vote_form=form)
    feedback.vote(article, user=current_user, helpful=form.helpful.data == "yes", comment=form.comment.data)
    if is_htmx():
        return render("kb/_feedback.html", article=article, thanked=True, **_feedback_context(article))
    flash(_("Thank you for your feedback."), "success")
    return see_other(url_for("kb.article", article_id=article.id) + "#feedback")


@bp.route("/<int:article_id>/read", methods=["POST"])
def mark_read(article_id):
    article = articles.get_article_for(current_user, article_id, "acknowledge")
    form = ReadForm()
    if not form.validate_on_submit():
        raise DomainError(_("The form is out of date. Reload the page and try again."))
    reading.acknowledge(article, user=current_user, version=form.version.data)
    if is_htmx():
        return render("kb/_read.html", article=article, **_reading_context(article))
    flash(_("Marked as read and understood."), "success")
    back = safe_next_url(request.form.get("next"), url_for("kb.article", article_id=article.id))
    return see_other(back)


# ---- search ---------------------------------------------------------------------------


@bp.route("/search", endpoint="search")
def search_page():
    raw = request.args.get("q", "")
    live = request.args.get("live") == "1" and is_htmx()
    per_page = LIVE_RESULTS if live else PAGE_SIZE
    results = search_articles(current_user, raw, page=page_number(), per_page=per_page)
    if live:
        return render("kb/_live_results.html", results=results, q=raw)
    return render("kb/search.html", "kb/_results.html", results=results, q=raw)


# ---- editors' overview ----------------------------------------------------------------


@bp.route("/insights")
@allowed(access.may_see_insights)
def insights():
    months = request.args.get("months", feedback.DEFAULT_STALE_MONTHS, type=int)
    if months not in STALE_MONTH_CHOICES:
        months = feedback.DEFAULT_STALE_MONTHS
    return render(
        "kb/insights.html",
        rated=feedback.helpfulness_report(),
        stale=feedback.stale_articles(months),
        months=months,
        month_choices=STALE_MONTH_CHOICES,
    )


@bp.route("/categories", methods=["GET", "POST"], endpoint="categories")
@allowed(access.may_manage_categories)
def category_list():
    tree = categories.category_tree()
    form = CategoryForm(tree=tree)
    if form.validate_on_submit():
        try:
            categories.create_category(name=form.name.data, parent_id=form.parent_id.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Category created."), "success")
            return see_other(url_for("kb.categories"))
    return render(
        "kb/categories.html",
        form=form,
        tree=tree,
        counts=listing.article_counts(current_user),
        status=form_status(form),
    )


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@allowed(access.may_manage_categories)
def edit_category(category_id):
    category = db.get_or_404(Category, category_id)
    form = CategoryForm(obj=category, tree=categories.category_tree(), exclude=category.id)
    if request.method == "GET":
        form.parent_id.data = category.parent_id or 0
    if form.validate_on_submit():
        try:
            categories.update_category(
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
    categories.delete_category(category, actor=current_user)
    flash(_("Category deleted."), "success")
    return see_other(url_for("kb.categories"))


# ---- stage playbooks ------------------------------------------------------------------


@bp.route("/playbooks")
def playbooks():
    chosen = request.args.get("stage", "")
    stages = list(Stage)
    sections = [
        (stage, playbooks_for_stage(stage, current_user))
        for stage in stages
        if not chosen or chosen == stage.value
    ]
    return render("kb/playbooks.html", sections=sections, stages=stages, chosen=chosen)

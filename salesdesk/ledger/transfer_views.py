"""Import and export pages."""

from flask import Response, request, send_file, stream_with_context, url_for
from flask_babel import get_locale
from flask_login import current_user

from .. import clock
from ..errors import DomainError
from ..paging import page_number
from ..web import form_status, is_htmx, render, see_other
from . import bp, column_mapping, exporter, import_rows, importer, queries, spreadsheet
from .forms import UploadForm

ROWS_PER_PAGE = 100
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/customers/import", methods=["GET", "POST"])
def import_upload():
    form = UploadForm()
    refused = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = importer.start_job(
                current_user, upload.filename or "upload", upload.stream, str(get_locale())
            )
        except DomainError as error:
            form.file.errors.append(error.message)
            refused = error
        else:
            step = "ledger.import_mapping" if job.status == "uploaded" else "ledger.import_job"
            return see_other(url_for(step, job_id=job.id))
    # Too large (413) and a full disk (503) say more than "invalid input" (422).
    status = refused.status if isinstance(refused, spreadsheet.ImportError_) else form_status(form)
    response = render(
        "ledger/import_upload.html",
        form=form,
        fields=column_mapping.FIELDS,
        custom_targets=column_mapping.custom_targets(),
        owner_hint=import_rows.owner_hint(current_user),
        status=status,
    )
    if status == 503:
        response.headers["Retry-After"] = "60"
    return response


@bp.route("/customers/import/<int:job_id>/mapping", methods=["GET", "POST"])
def import_mapping(job_id):
    job = importer.get_job_for(current_user, job_id)
    if job.status == "reading" or not job.headers:
        return see_other(url_for("ledger.import_job", job_id=job.id))
    error = None
    if request.method == "POST":
        try:
            importer.set_mapping(current_user, job.id, column_mapping.posted_mapping(request.form))
        except DomainError as failure:
            error = failure.message
        else:
            importer.run_in_background(importer.preview, job.id, str(get_locale()))
            return see_other(url_for("ledger.import_job", job_id=job.id))
    return render(
        "ledger/import_mapping.html",
        job=job,
        fields=column_mapping.FIELDS,
        required=column_mapping.REQUIRED,
        custom_targets=column_mapping.custom_targets(),
        owner_hint=import_rows.owner_hint(current_user),
        samples=job.samples or [],
        error=error,
        status=422 if error else 200,
    )


@bp.route("/customers/import/<int:job_id>")
def import_job(job_id):
    job = importer.get_job_for(current_user, job_id)
    if job.status == "uploaded" and is_htmx():
        # The page was polling while the file was read: on to the mapping.
        return see_other(url_for("ledger.import_mapping", job_id=job.id))
    status_filter = request.args.get("status", "")
    page = None
    if job.status == "previewed":
        page = import_rows.rows_page(job, status_filter, page_number(), ROWS_PER_PAGE)
    return render(
        "ledger/import_job.html",
        "ledger/_import_status.html",
        job=job,
        page=page,
        status_filter=status_filter,
        labels=import_rows.STATUS_LABELS,
        stale=importer.is_stale(job),
    )


@bp.route("/customers/import/<int:job_id>/invalid.xlsx")
def import_invalid_rows(job_id):
    job = importer.get_job_for(current_user, job_id)
    return send_file(
        importer.invalid_rows_file(current_user, job.id),
        as_attachment=True,
        download_name=importer.invalid_rows_filename(job),
        mimetype=XLSX_TYPE,
    )


@bp.route("/customers/import/<int:job_id>/commit", methods=["POST"])
def import_commit(job_id):
    job = importer.start_commit(current_user, job_id)
    importer.run_in_background(importer.commit, job.id, str(get_locale()))
    return see_other(url_for("ledger.import_job", job_id=job.id))


@bp.route("/customers/export.<any(csv, xlsx):fmt>")
def export(fmt):
    filters = queries.Filters.from_args(request.args, current_user)
    ids = exporter.matching_ids(current_user, filters)
    exporter.record_export(current_user, filters, len(ids), fmt)
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    name = f"customers-{stamp}.{fmt}"
    if fmt == "csv":
        response = Response(stream_with_context(exporter.csv_chunks(current_user, ids)), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return send_file(
        exporter.xlsx_file(current_user, ids),
        as_attachment=True,
        download_name=name,
        mimetype=XLSX_TYPE,
    )

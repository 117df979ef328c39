"""The metrics page and its XLSX export (support leads, managers, admins)."""

from flask import request, send_file
from flask_login import current_user
from sqlalchemy import select

from ..auth import allowed
from ..auth import services as accounts
from ..auth.models import Role, User
from ..extensions import db
from ..ledger.exporter import write_xlsx
from ..web import render
from . import access, bp, metrics
from .models import RequestType

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _choices(user):
    """The form's choices: teams (admins), the support users and the request types."""
    # Any support user may work the company-wide queue, which every scope may include.
    handlers = select(User).where(User.role == Role.SUPPORT).order_by(User.display_name, User.id)
    return {
        "teams": accounts.teams() if user.role == Role.ADMIN else [],
        "handlers": db.session.scalars(handlers).all(),
        "types": db.session.scalars(select(RequestType).order_by(RequestType.position, RequestType.id)).all(),
    }


@bp.get("/support/metrics", endpoint="metrics")
@allowed(access.may_see_metrics)
def metrics_page():
    filters = metrics.MetricsFilters.from_args(request.args, current_user)
    return render(
        "support/metrics.html",
        report=metrics.report(current_user, filters),
        filters=filters,
        periods=metrics.PERIODS,
        company=metrics.COMPANY,
        age_labels=metrics.age_labels(short=True),
        stars=metrics.STARS,
        **_choices(current_user),
    )


@bp.get("/support/metrics.xlsx")
@allowed(access.may_see_metrics)
def metrics_export():
    filters = metrics.MetricsFilters.from_args(request.args, current_user)
    report = metrics.report(current_user, filters)
    name = f"support-metrics-{filters.label()}.xlsx"
    return send_file(
        write_xlsx(filters.label(), metrics.export_headers(), metrics.export_rows(report), widths=[12, 24]),
        as_attachment=True,
        download_name=name,
        mimetype=XLSX_TYPE,
    )

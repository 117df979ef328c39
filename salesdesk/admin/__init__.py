"""Administration: users, teams and the audit log. Administrators only."""

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    if not current_user.is_admin:
        abort(403)


from . import views  # noqa: E402,F401

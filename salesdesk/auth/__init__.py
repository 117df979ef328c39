"""Logging in and out, the own account, and the access checks every view relies on."""

from functools import wraps

from flask import Blueprint, abort, current_app, request
from flask_babel import get_locale
from flask_login import current_user

from ..i18n import LANGUAGES

bp = Blueprint("auth", __name__)


def public(view):
    """Mark a view as reachable without logging in; every other view requires it."""
    view.is_public = True
    return view


def roles_required(*roles):
    """Refuse (403) anyone whose role is not listed."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def allowed(predicate):
    """Refuse (403) anyone for whom `predicate(user)` is false: a named predicate of the
    feature's access module, the one place that decides."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not predicate(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.before_app_request
def require_login():
    view = current_app.view_functions.get(request.endpoint)
    if view is None or request.endpoint == "static" or getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.app_context_processor
def language_switcher():
    def language_switch():
        """What the switch on every page draws: LanguageForm's fields, written by the
        template itself (through WTForms' widgets they took ~0.4 ms a page); the form
        still judges the post."""
        return {
            "languages": LANGUAGES.items(),
            "current": str(get_locale()),
            "next": request.full_path.rstrip("?"),
        }

    return {"language_switch": language_switch}


from . import views  # noqa: E402,F401  (routes register on bp)

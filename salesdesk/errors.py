"""Domain errors raised by services, and the HTTP error pages."""

from contextlib import suppress

from flask import current_app, g, make_response, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, InternalError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .web import LARGE_UPLOADS, is_htmx, toast_trigger


class DomainError(Exception):
    """A rule refused an operation. `message` is shown to the user as it is."""

    status = 400

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    """The object changed or is taken; the user should look again."""

    status = 409


class TooManyRequests(DomainError):
    status = 429


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("File too large"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Service unavailable"),
}

ERROR_EXPLANATIONS = {
    400: _l("The request could not be understood. Check what you entered and try again."),
    403: _l("You do not have permission to do this."),
    404: _l("This page or record does not exist, or it was deleted."),
    405: _l("This address does not accept that kind of request."),
    413: _l("The upload is larger than the allowed size."),
    429: _l("Too many attempts. Please wait and try again."),
    500: _l("An unexpected error occurred. It has been logged; please try again."),
    503: _l("The service is temporarily unavailable. Please try again shortly."),
}


def error_response(status, message=None):
    """The error page, or for htmx a small fragment plus a toast."""
    title = ERROR_TITLES.get(status, ERROR_TITLES[400])
    message = message or ERROR_EXPLANATIONS.get(status, ERROR_EXPLANATIONS[400])
    render = _render_standalone if status >= 500 else render_template
    context = {"status": status, "title": title, "message": message}
    if is_htmx():
        headers = {"HX-Trigger": toast_trigger(str(message), "error")}
        return render("errors/_error.html", **context), status, headers
    return render("errors/error.html", **context), status


def _render_standalone(template, **context):
    """A server error's page without the menu, the bell or any context processor: those
    read the user and the database, and the database may be what failed."""
    template = current_app.jinja_env.get_template(template)
    return template.render(request=request, session=session, g=g, standalone=True, **context)


def _rollback():
    # A lost connection may fail the rollback too; the page must still render.
    with suppress(SQLAlchemyError):
        db.session.rollback()


def _database_problem(error):
    text = str(error.orig).lower()
    if any(sign in text for sign in ("readonly", "read-only", "disk is full", "no space left", "disk i/o")):
        return _(
            "The database cannot be written to: the disk is full or the database is read-only. "
            "Your last change was not saved. Please tell your administrator."
        )
    if "locked" in text or "timeout" in text:
        return _("The database is busy. Your last change was not saved; please try again in a moment.")
    return _("The database cannot be reached right now. Please try again shortly.")


def register_errorhandlers(app):
    @app.errorhandler(DomainError)
    def domain_error(error):
        _rollback()
        return error_response(error.status, error.message)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(
            400, _("Your session expired or the form is out of date. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 413:
            # The limit this request had (a feature may allow more than the app's).
            limit = app.config["UPLOAD_LIMIT_MB"]
            if request.url_rule is not None and request.url_rule.endpoint in LARGE_UPLOADS:
                limit = (LARGE_UPLOADS[request.url_rule.endpoint] >> 20) - 1
            return error_response(413, _("The upload is larger than %(limit)s MB.", limit=limit))
        if error.code is None or error.code < 400:
            return error
        return error_response(error.code, None)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def value_out_of_range(_error):
        # A forged huge number (a page, an id in a form) the database cannot take.
        _rollback()
        return error_response(400, _("A number in the request is out of range."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InternalError)
    def database_unavailable(error):
        # A read-only or full database, a lost PostgreSQL server: nothing was saved, and
        # the user hears so plainly instead of seeing a traceback.
        app.logger.error("database error on %s: %s", request.path, error.orig)
        _rollback()
        response = make_response(error_response(503, _database_problem(error)))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(InternalServerError)
    def server_error(_error):
        # Flask has logged the traceback; the session may hold a failed transaction.
        _rollback()
        return error_response(500)

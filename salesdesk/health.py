"""GET /healthz for monitors and load balancers: 200 when the database answers and its
schema is at the code's migration head, 503 (with the reason) otherwise. No login, no
session, nothing cached."""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .auth import public
from .database import UnknownRevision, pending_migrations
from .extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        pending = pending_migrations()
    except SQLAlchemyError as error:
        current_app.logger.error("health check: database unreachable: %s", error)
        return _answer(503, database="unreachable")
    except UnknownRevision as error:
        return _answer(503, database="ok", migrations=str(error))
    finally:
        db.session.rollback()
    if pending:
        return _answer(503, database="ok", migrations=f"{len(pending)} pending: run `salesdesk upgrade`")
    return _answer(200, database="ok", migrations="current")


def _answer(status, **checks):
    response = jsonify(status="ok" if status == 200 else "unavailable", **checks)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response

"""The shared customer ledger (客户台账): customers, contacts, follow-ups, import and export."""

from flask import Blueprint

bp = Blueprint("ledger", __name__)

from . import models, transfer_views, views  # noqa: E402,F401

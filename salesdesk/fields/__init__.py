"""Custom fields (自定义字段): fields an administrator adds to customers and contacts
without code, their values, and where they show (PRODUCT.md section 9). The ledger
reads and writes the values through values.py and lists them through sql.py."""

from flask import Blueprint

bp = Blueprint("fields", __name__)

# The modules whose routes and timeline entries must be registered.
from . import history, models, views  # noqa: E402,F401
